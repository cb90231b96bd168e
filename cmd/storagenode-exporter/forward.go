package main

import (
	"context"
	"fmt"
	"net/netip"

	"github.com/storagenode-exporter/storagenode-exporter/forward"
)

// ForwardCmd streams a local log file to remote `serve` instances over TCP.
type ForwardCmd struct {
	Listen        string    `default:"127.0.0.1:9999" help:"Address to listen on (host:port)."`
	Allow         []string  `placeholder:"CIDR" help:"Also accept clients from this network (repeatable, or comma-separated); loopback clients are always accepted."`
	FromBeginning bool      `help:"Send every client that connects the file from its start, then its new lines, instead of only the lines written after it connected."`
	MaxClients    int       `default:"64" help:"Most clients connected at a time; further connections are closed at once (counted, logged at debug and at most once a minute at warn)."`
	Lines         lineLimit `embed:""`
	File          string    `arg:"" name:"file" help:"Log file to follow through rotation." type:"path"`
}

// Validate checks the flags before anything runs (exit status 2).
func (c *ForwardCmd) Validate() error {
	if c.MaxClients < 1 {
		return fmt.Errorf("--max-clients %d: want at least 1", c.MaxClients)
	}
	_, err := parseAllow(c.Allow)
	return err
}

// Run serves the file until interrupted.
func (c *ForwardCmd) Run(ctx context.Context, env *Env) error {
	allow, err := parseAllow(c.Allow)
	if err != nil {
		return err
	}

	srv := forward.New(forward.Config{
		Listen:        c.Listen,
		Allow:         allow,
		Path:          c.File,
		FromBeginning: c.FromBeginning,
		MaxClients:    c.MaxClients,
		MaxLine:       c.Lines.MaxLineLength,
		Logger:        env.Logger,
	})
	// forward.Server warns when it listens on a non-loopback address
	// without --allow: only local clients can connect then.
	return srv.Run(ctx)
}

// parseAllow parses --allow values as CIDR prefixes.
func parseAllow(values []string) ([]netip.Prefix, error) {
	allow := make([]netip.Prefix, 0, len(values))
	for _, v := range values {
		p, err := netip.ParsePrefix(v)
		if err != nil {
			return nil, fmt.Errorf("--allow %q is not a CIDR network such as 192.168.1.0/24 or 2001:db8::/32 (a single host is 192.168.1.5/32): %w", v, err)
		}
		allow = append(allow, p.Masked())
	}
	return allow, nil
}
