package geo

import (
	"bytes"
	"compress/gzip"
	"io"
	"runtime"
	"strings"
	"testing"
)

// The embedded database decompresses to exactly what gzip gives, into
// memory outside the Go heap on Unix (where the 8 MB would count toward a
// soft memory limit), and a database whose length differs from its trailer
// or whose checksum fails is refused.
func TestGunzipOffHeap(t *testing.T) {
	zr, err := gzip.NewReader(bytes.NewReader(embeddedGzip))
	if err != nil {
		t.Fatal(err)
	}
	want, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	got, err := gunzip(embeddedGzip)
	if err != nil {
		t.Fatal(err)
	}
	runtime.ReadMemStats(&after)
	if !bytes.Equal(got, want) {
		t.Fatalf("gunzip gave %d bytes unlike gzip's %d", len(got), len(want))
	}
	heap := after.TotalAlloc - before.TotalAlloc
	if runtime.GOOS != "windows" && runtime.GOOS != "plan9" && heap > 4<<20 { // the decompressor's own state, not the 8 MB
		t.Errorf("decompressing %d bytes allocated %d bytes of Go heap", len(got), heap)
	}
	t.Logf("%d bytes decompressed, %d bytes of Go heap allocated", len(got), heap)
	freeOffHeap(got)

	// A gzip of a few bytes with its trailer's size or checksum altered.
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	zw.Write([]byte("not much of a database"))
	zw.Close()
	good := b.Bytes()
	if _, err := gunzip(good); err != nil {
		t.Fatalf("a good gzip: %v", err)
	}
	short := bytes.Clone(good)
	short[len(short)-4]-- // the size one less: longer than the trailer says
	bad := bytes.Clone(good)
	bad[len(bad)-8]++ // the CRC
	for name, gz := range map[string][]byte{"size": short, "checksum": bad} {
		if _, err := gunzip(gz); err == nil || !strings.Contains(err.Error(), embeddedFile) {
			t.Errorf("%s altered: gunzip = %v, want an error naming %s", name, err, embeddedFile)
		}
	}
}
