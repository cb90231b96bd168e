// Command gzipdb compresses a country mmdb for embedding into package geo.
//
// It is run by geo/refresh.sh:
//
//	go run ./geo/internal/gzipdb -in geo-whois-asn-country.mmdb -out geo/data/geo-whois-asn-country.mmdb.gz
//
// Before writing, it checks that the input is a MaxMind DB whose records
// carry a "country_code" and that a well-known public address resolves. The
// output is gzip at level 9 (compress/gzip.BestCompression) with no name and
// no modification time in the header, so the same input always gives the
// same bytes. The file is written to a temporary name and renamed into place.
package main

import (
	"bytes"
	"compress/gzip"
	"errors"
	"flag"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"

	"github.com/oschwald/maxminddb-golang/v2"
)

func main() {
	in := flag.String("in", "", "input .mmdb file")
	out := flag.String("out", "", "output .mmdb.gz file")
	flag.Parse()
	if *in == "" || *out == "" {
		fmt.Fprintln(os.Stderr, "usage: gzipdb -in FILE.mmdb -out FILE.mmdb.gz")
		os.Exit(2)
	}
	if err := run(*in, *out); err != nil {
		fmt.Fprintln(os.Stderr, "gzipdb:", err)
		os.Exit(1)
	}
}

func run(in, out string) error {
	raw, err := os.ReadFile(in)
	if err != nil {
		return err
	}
	if err := check(raw); err != nil {
		return fmt.Errorf("%s: %w", in, err)
	}

	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		return err
	}
	if _, err := zw.Write(raw); err != nil {
		return err
	}
	if err := zw.Close(); err != nil {
		return err
	}

	tmp, err := os.CreateTemp(filepath.Dir(out), ".gzipdb-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // no-op after a successful rename
	if _, err := tmp.Write(buf.Bytes()); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), out); err != nil {
		return err
	}
	fmt.Printf("%s: %d bytes -> %s: %d bytes (gzip -9)\n", in, len(raw), out, buf.Len())
	return nil
}

// check makes sure raw is an mmdb with country_code records.
func check(raw []byte) error {
	r, err := maxminddb.OpenBytes(raw)
	if err != nil {
		return fmt.Errorf("not a MaxMind DB: %w", err)
	}
	defer r.Close()
	// Reader.Verify is not usable here: it rejects the package's metadata
	// for having an empty description map. Walk every network instead.
	n := 0
	for res := range r.Networks() {
		var rec struct {
			CountryCode string `maxminddb:"country_code"`
		}
		if err := res.Decode(&rec); err != nil {
			return fmt.Errorf("network %v: %w", res.Prefix(), err)
		}
		n++
	}
	if n == 0 {
		return errors.New("database has no networks")
	}
	for _, s := range []string{"8.8.8.8", "2001:4860:4860::8888"} {
		var rec struct {
			CountryCode string `maxminddb:"country_code"`
		}
		if err := r.Lookup(netip.MustParseAddr(s)).Decode(&rec); err != nil {
			return fmt.Errorf("lookup %s: %w", s, err)
		}
		if len(rec.CountryCode) != 2 {
			return errors.New("records carry no 2-letter country_code (lookup " + s + ")")
		}
	}
	return nil
}
