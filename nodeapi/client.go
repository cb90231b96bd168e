package nodeapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// DefaultTimeout is the per-request timeout used when NewClient is given
// none.
const DefaultTimeout = 30 * time.Second

// MaxBodySize is the largest response body the client reads. The biggest
// real response (/api/sno/satellite/{id} with 60 audit windows and a month of
// daily rows) is a few tens of KiB.
const MaxBodySize = 16 << 20

// API paths (docs/node-api.md §3). They are used exactly: the node
// redirects other spellings and serves its HTML page for unknown paths.
const (
	pathSNO             = "/api/sno/"
	pathSatellites      = "/api/sno/satellites"
	pathSatellite       = "/api/sno/satellite/"
	pathEstimatedPayout = "/api/sno/estimated-payout"
)

// ErrInvalidResponse is wrapped by every error about a response that came
// back with a 2xx status but cannot be used: not JSON (e.g. the dashboard's
// HTML page, which the node serves with status 200 for unknown paths),
// truncated or malformed JSON, values of the wrong type, missing required
// keys, or a body larger than MaxBodySize.
var ErrInvalidResponse = errors.New("invalid response")

// ErrRedirectOtherHost is wrapped by the error of a request the node API
// redirected to another scheme or host:port than the one given.
var ErrRedirectOtherHost = errors.New("redirected to another host")

// checkRedirect is the default client's redirect policy.
func checkRedirect(req *http.Request, via []*http.Request) error {
	from := via[0].URL
	if req.URL.Scheme != from.Scheme || req.URL.Host != from.Host {
		return fmt.Errorf("%w: %s://%s sent it to %s://%s; only redirects on the node's own address are followed (give the address it redirects to, if that is the node)",
			ErrRedirectOtherHost, from.Scheme, from.Host, req.URL.Scheme, req.URL.Host)
	}
	if len(via) >= 3 {
		return errors.New("stopped after 3 redirects")
	}
	return nil
}

// APIError is a response with a non-2xx status. The node sends 400, 404 and
// 500 with a body {"error":"<text>"}; Message is that text, or the status
// text when the body is something else (a proxy's error page, say).
type APIError struct {
	Status  int
	Message string
}

func (e *APIError) Error() string {
	return fmt.Sprintf("status %d: %s", e.Status, e.Message)
}

// Client reads one node's API. It is safe for concurrent use.
type Client struct {
	base    *url.URL
	timeout time.Duration
	http    *http.Client
}

// NewClient returns a client for the node API at baseURL, e.g.
// "http://127.0.0.1:14002". A path in baseURL (a reverse proxy's prefix) is
// kept and the API paths are appended to it. timeout bounds each request,
// body included; zero or less means DefaultTimeout. The slow route is
// /api/sno/estimated-payout (close to 30 s on big nodes), so a timeout much
// shorter than the default makes payout polls fail on such nodes.
//
// httpClient may be nil. The default follows at most 3 redirects (the node
// redirects paths with or without a trailing slash once), and only on the
// same scheme and host:port: a redirect to another server fails with
// ErrRedirectOtherHost, so that another server's data is never shown as
// this node's. The client never changes httpClient; the timeout is applied
// through each request's context.
func NewClient(baseURL string, timeout time.Duration, httpClient *http.Client) (*Client, error) {
	u, err := url.Parse(baseURL)
	if err != nil {
		return nil, fmt.Errorf("nodeapi: base URL: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("nodeapi: base URL %q: scheme must be http or https", baseURL)
	}
	if u.Host == "" {
		return nil, fmt.Errorf("nodeapi: base URL %q: no host", baseURL)
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("nodeapi: base URL %q: must not have user info, query or fragment", baseURL)
	}
	u.Path = strings.TrimRight(u.Path, "/")
	u.RawPath = ""
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	if httpClient == nil {
		httpClient = &http.Client{CheckRedirect: checkRedirect}
	}
	return &Client{base: u, timeout: timeout, http: httpClient}, nil
}

// SNO fetches the dashboard, GET /api/sno/ (docs/node-api.md §4).
func (c *Client) SNO(ctx context.Context) (*Dashboard, error) {
	var w wireDashboard
	if err := c.get(ctx, pathSNO, &w); err != nil {
		return nil, err
	}
	d, err := w.decode()
	if err != nil {
		return nil, c.fail(pathSNO, fmt.Errorf("%w: %w", ErrInvalidResponse, err))
	}
	return d, nil
}

// Satellites fetches the all-satellites summary, GET /api/sno/satellites
// (docs/node-api.md §5).
func (c *Client) Satellites(ctx context.Context) (*SatellitesSummary, error) {
	var w wireSatellitesSummary
	if err := c.get(ctx, pathSatellites, &w); err != nil {
		return nil, err
	}
	s, err := w.decode()
	if err != nil {
		return nil, c.fail(pathSatellites, fmt.Errorf("%w: %w", ErrInvalidResponse, err))
	}
	return s, nil
}

// Satellite fetches one satellite's data, GET /api/sno/satellite/{id}
// (docs/node-api.md §6). The node answers 400 for a malformed ID and 404 for
// a satellite it does not trust; both come back as *APIError.
func (c *Client) Satellite(ctx context.Context, id string) (*SatelliteDetail, error) {
	path := pathSatellite + url.PathEscape(id)
	if id == "" || strings.ContainsAny(id, "/?#") {
		return nil, c.fail(path, fmt.Errorf("invalid satellite ID %q", id))
	}
	var w wireSatelliteDetail
	if err := c.get(ctx, path, &w); err != nil {
		return nil, err
	}
	s, err := w.decode(id)
	if err != nil {
		return nil, c.fail(path, fmt.Errorf("%w: %w", ErrInvalidResponse, err))
	}
	return s, nil
}

// EstimatedPayout fetches the node's payout estimate over all satellites,
// GET /api/sno/estimated-payout (docs/node-api.md §7). This route is slow on
// big nodes.
func (c *Client) EstimatedPayout(ctx context.Context) (*EstimatedPayout, error) {
	var w wireEstimatedPayout
	if err := c.get(ctx, pathEstimatedPayout, &w); err != nil {
		return nil, err
	}
	p, err := w.decode()
	if err != nil {
		return nil, c.fail(pathEstimatedPayout, fmt.Errorf("%w: %w", ErrInvalidResponse, err))
	}
	return p, nil
}

func (c *Client) fail(path string, err error) error {
	return fmt.Errorf("nodeapi: GET %s: %w", path, err)
}

// get fetches path and decodes its JSON body into v. Every error is
// wrapped as "nodeapi: GET <path>: ...".
func (c *Client) get(ctx context.Context, path string, v any) error {
	body, err := c.fetch(ctx, path)
	if err != nil {
		return c.fail(path, err)
	}
	if err := json.Unmarshal(body, v); err != nil {
		return c.fail(path, fmt.Errorf("%w: %w", ErrInvalidResponse, err))
	}
	return nil
}

func (c *Client) fetch(ctx context.Context, path string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()

	u := *c.base
	path, u.RawQuery, _ = strings.Cut(path, "?") // estimated-payout?id=
	u.Path += path
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, c.ctxErr(ctx, err)
	}
	defer resp.Body.Close()

	body, err := io.ReadAll(io.LimitReader(resp.Body, MaxBodySize+1))
	if err != nil {
		return nil, c.ctxErr(ctx, fmt.Errorf("reading body: %w", err))
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, newAPIError(resp, body)
	}
	if len(body) > MaxBodySize {
		return nil, fmt.Errorf("%w: body larger than %d bytes", ErrInvalidResponse, MaxBodySize)
	}
	if err := checkJSONContentType(resp.Header.Get("Content-Type")); err != nil {
		return nil, err
	}
	return body, nil
}

// ctxErr makes a timeout of the client's own deadline say so.
func (c *Client) ctxErr(ctx context.Context, err error) error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) && !errors.Is(err, context.DeadlineExceeded) {
		err = fmt.Errorf("%w: %w", err, context.DeadlineExceeded)
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("no complete response within %s: %w", c.timeout, err)
	}
	return err
}

func newAPIError(resp *http.Response, body []byte) *APIError {
	e := &APIError{Status: resp.StatusCode, Message: http.StatusText(resp.StatusCode)}
	var b struct {
		Error *string `json:"error"`
	}
	if len(body) <= MaxBodySize && json.Unmarshal(body, &b) == nil && b.Error != nil && *b.Error != "" {
		e.Message = *b.Error
	}
	if e.Message == "" {
		e.Message = "unexpected status"
	}
	return e
}

func checkJSONContentType(ct string) error {
	if ct == "" {
		return fmt.Errorf("%w: no Content-Type, want application/json", ErrInvalidResponse)
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return fmt.Errorf("%w: Content-Type %q: %w", ErrInvalidResponse, ct, err)
	}
	if mt != "application/json" && !strings.HasSuffix(mt, "+json") {
		return fmt.Errorf("%w: Content-Type %q, want application/json", ErrInvalidResponse, mt)
	}
	return nil
}
