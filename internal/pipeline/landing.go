package pipeline

import (
	"errors"
	"html"
	"io/fs"
	"net/http"
	"slices"
	"strings"

	promversion "github.com/prometheus/common/version"
	"github.com/prometheus/exporter-toolkit/web"

	"github.com/storagenode-exporter/storagenode-exporter/source"
)

// newLandingPage returns the handler of "/": the exporter-toolkit landing
// page, with links to what serve serves (the telemetry path and /healthz;
// no profiling links, since serve has no /debug/pprof), a line per node
// saying how its log is doing, and where peer countries come from. The page
// is rendered at each request, so the node lines are current.
func newLandingPage(telemetryPath, geoSource string, nodes []*node) (http.Handler, error) {
	base := web.LandingConfig{
		Name:        "Storj storagenode exporter",
		Description: "Prometheus exporter for Storj storage nodes: transfers, errors and health from the node's logs.",
		Version:     promversion.Info(),
		Links: []web.LandingLinks{
			{Address: telemetryPath, Text: "Metrics"},
			{Address: "/healthz", Text: "Health"},
		},
		Profiling: "false",
	}
	geo := `<p>Peer countries: ` + html.EscapeString(geoSource) + `. The embedded country data is geo-whois-asn-country ` +
		`from the ip-location-db project, based on data &copy; Number Resource Organization (NRO), licensed under ` +
		`<a href="https://creativecommons.org/licenses/by/4.0/">CC BY 4.0</a>.</p>`
	render := func() (*web.LandingPageHandler, error) {
		c := base
		c.Links = slices.Clone(base.Links) // NewLandingPage edits them
		c.ExtraHTML = nodesHTML(nodes) + geo
		return web.NewLandingPage(c)
	}
	if _, err := render(); err != nil {
		return nil, err
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		page, err := render()
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		page.ServeHTTP(w, r)
	}), nil
}

// nodesHTML lists the nodes with the state of their logs.
func nodesHTML(nodes []*node) string {
	var b strings.Builder
	b.WriteString(`<div id="nodes">Nodes:<ul>`)
	for _, n := range nodes {
		b.WriteString("<li>")
		b.WriteString(html.EscapeString(n.statusLine()))
		b.WriteString("</li>")
	}
	b.WriteString("</ul></div>")
	return b.String()
}

// statusLine says how a node's log source is doing, e.g.
// "My-Node: /var/log/x.log — not found, waiting for it".
func (n *node) statusLine() string {
	where := n.spec.Source
	var state string
	switch src := n.src.(type) {
	case *source.File:
		st := src.Stats()
		switch {
		case st.Open:
			state = "following"
		case errors.Is(st.Err, fs.ErrNotExist):
			state = "not found, waiting for it"
		case errors.Is(st.Err, fs.ErrPermission):
			state = "permission denied, retrying (the exporter's user needs read access)"
		case st.Err != nil:
			state = "cannot be read, retrying: " + st.Err.Error()
		default:
			state = "opening"
		}
	case *source.TCP:
		where = "log stream " + where
		state = "not connected, retrying"
		if src.Up() {
			state = "connected"
		}
	case *source.Reader:
		where = "standard input"
		state = "ended"
		if src.Up() {
			state = "reading"
		}
	default:
		state = "stopped"
		if n.src.Up() {
			state = "running"
		}
	}
	return n.spec.Name + ": " + where + " — " + state
}
