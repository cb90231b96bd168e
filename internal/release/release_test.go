package main

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
)

// The files every archive must hold besides the binary (named here, not
// taken from the contents list, so that losing one fails).
var wantFiles = []string{
	"README.md",
	"alerts/alertmanager.yml",
	"alerts/storagenode.rules.yml",
	"deploy/README.md",
	"deploy/config.example.yml",
	"deploy/storagenode-exporter.service",
	"grafana/node-detail.json",
	"grafana/overview.json",
	"grafana/reputation-storage-earnings.json",
}

type archived struct {
	mode  os.FileMode
	mtime time.Time
	data  []byte
}

// A release of linux/amd64 and windows/amd64: the archives' names, their
// entries (under the top folder, in order, with modes and the given time),
// the files' contents, SHA256SUMS, and the Linux binary printing the
// stamped version.
func TestRelease(t *testing.T) {
	t.Parallel()
	root := filepath.Join("..", "..")
	out := t.TempDir()
	const version = "v9.8.7-test"
	mtime := time.Date(2026, 5, 4, 3, 2, 1, 0, time.UTC)
	var log bytes.Buffer
	archives, err := Release(Config{Root: root, Out: out, Version: version, Mtime: mtime,
		Targets: []Target{{OS: "linux", Arch: "amd64"}, {OS: "windows", Arch: "amd64"}}, Log: &log})
	if err != nil {
		t.Fatal(err)
	}
	t.Log(log.String())
	want := []string{
		filepath.Join(out, "storagenode-exporter-v9.8.7-test.linux-amd64.tar.gz"),
		filepath.Join(out, "storagenode-exporter-v9.8.7-test.windows-amd64.zip"),
	}
	if !slices.Equal(archives, want) {
		t.Fatalf("archives %q, want %q", archives, want)
	}
	wantFiles := slices.Clone(wantFiles)
	if _, err := os.Stat(filepath.Join(root, "LICENSE")); err != nil {
		if !strings.Contains(log.String(), "LICENSE does not exist") {
			t.Errorf("the missing LICENSE is not reported: %s", log.String())
		}
	} else {
		wantFiles = append(wantFiles, "LICENSE")
	}

	for _, a := range archives {
		var entries []string
		var files map[string]archived
		var exe string
		if strings.HasSuffix(a, ".zip") {
			entries, files = readZip(t, a)
			exe = "storagenode-exporter.exe"
		} else {
			entries, files = readTarGz(t, a)
			exe = "storagenode-exporter"
		}
		top := strings.TrimSuffix(strings.TrimSuffix(filepath.Base(a), ".zip"), ".tar.gz") + "/"
		wantEntries := []string{top, top + "alerts/", top + "deploy/", top + "grafana/"}
		for _, f := range append(slices.Clone(wantFiles), exe) {
			wantEntries = append(wantEntries, top+f)
		}
		slices.Sort(wantEntries[4:])
		if !slices.Equal(entries, wantEntries) {
			t.Errorf("%s: entries\n%s\nwant\n%s", a, strings.Join(entries, "\n"), strings.Join(wantEntries, "\n"))
		}
		for name, f := range files {
			if !f.mtime.Equal(mtime) {
				t.Errorf("%s: %s has time %v, want %v", a, name, f.mtime, mtime)
			}
			wantMode := os.FileMode(0o644)
			if name == top+exe {
				wantMode = 0o755
			} else if src, err := os.ReadFile(filepath.Join(root, strings.TrimPrefix(name, top))); err != nil || !bytes.Equal(src, f.data) {
				t.Errorf("%s: %s differs from the repository's file (%v)", a, name, err)
			}
			if f.mode != wantMode {
				t.Errorf("%s: %s has mode %v, want %v", a, name, f.mode, wantMode)
			}
		}
		bin := files[top+exe].data
		if strings.HasSuffix(a, ".zip") {
			if !bytes.HasPrefix(bin, []byte("MZ")) {
				t.Errorf("%s: %s is not a Windows executable", a, exe)
			}
			continue
		}
		path := filepath.Join(t.TempDir(), exe)
		if err := os.WriteFile(path, bin, 0o755); err != nil {
			t.Fatal(err)
		}
		if runtime.GOOS != "linux" || runtime.GOARCH != "amd64" {
			continue
		}
		outb, err := exec.Command(path, "--version").CombinedOutput()
		if err != nil || !strings.HasPrefix(string(outb), "storagenode-exporter v9.8.7-test (revision ") || !strings.Contains(string(outb), "linux/amd64") {
			t.Errorf("%s --version: %v %s", exe, err, outb)
		}
	}

	sums, err := os.ReadFile(filepath.Join(out, "SHA256SUMS"))
	if err != nil {
		t.Fatal(err)
	}
	var wantSums string
	for _, a := range archives {
		data, _ := os.ReadFile(a)
		sum := sha256.Sum256(data)
		wantSums += fmt.Sprintf("%s  %s\n", hex.EncodeToString(sum[:]), filepath.Base(a))
	}
	if string(sums) != wantSums {
		t.Errorf("SHA256SUMS:\n%s\nwant:\n%s", sums, wantSums)
	}
}

// Packing the same files twice gives the same bytes, whatever the order of
// the entries.
func TestArchivesReproducible(t *testing.T) {
	t.Parallel()
	files, _, err := Contents(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	reversed := slices.Clone(files)
	slices.Reverse(reversed)
	mtime := time.Unix(1_800_000_000, 0)
	dir := t.TempDir()
	for _, ext := range []string{".tar.gz", ".zip"} {
		a, b := filepath.Join(dir, "a"+ext), filepath.Join(dir, "b"+ext)
		if err := writeArchive(a, "top", files, mtime); err != nil {
			t.Fatal(err)
		}
		if err := writeArchive(b, "top", reversed, mtime); err != nil {
			t.Fatal(err)
		}
		da, _ := os.ReadFile(a)
		db, _ := os.ReadFile(b)
		if len(da) == 0 || !bytes.Equal(da, db) {
			t.Errorf("%s: two packings differ (%d and %d bytes)", ext, len(da), len(db))
		}
	}
}

func TestParseTarget(t *testing.T) {
	for _, s := range strings.Split(DefaultTargets, ",") {
		tg, err := ParseTarget(s)
		if err != nil || tg.String() != s {
			t.Errorf("%s: %+v %v", s, tg, err)
		}
	}
	tg, _ := ParseTarget("linux/arm/v6")
	if tg.ARM != "6" || tg.Suffix() != "linux-armv6" || tg.Exe() != "storagenode-exporter" {
		t.Errorf("linux/arm/v6: %+v %s", tg, tg.Suffix())
	}
	if tg, _ := ParseTarget("windows/amd64"); tg.Exe() != "storagenode-exporter.exe" || tg.Suffix() != "windows-amd64" {
		t.Errorf("windows/amd64: %+v", tg)
	}
	if tg, _ := ParseTarget("linux/arm64/v8"); tg != (Target{OS: "linux", Arch: "arm64"}) {
		t.Errorf("linux/arm64/v8: %+v", tg)
	}
	for _, bad := range []string{"", "linux", "linux/arm", "linux/arm/v5", "linux/amd64/v2", "/amd64"} {
		if _, err := ParseTarget(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func readTarGz(t *testing.T, path string) (names []string, files map[string]archived) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	files = map[string]archived{}
	tr := tar.NewReader(gz)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, h.Name)
		if h.Uid != 0 || h.Gid != 0 || h.Uname != "" || h.Gname != "" {
			t.Errorf("%s: owned by %d:%d (%s:%s)", h.Name, h.Uid, h.Gid, h.Uname, h.Gname)
		}
		if h.Typeflag == tar.TypeReg {
			data, err := io.ReadAll(tr)
			if err != nil {
				t.Fatal(err)
			}
			files[h.Name] = archived{mode: os.FileMode(h.Mode), mtime: h.ModTime, data: data}
		}
	}
	return names, files
}

func readZip(t *testing.T, path string) (names []string, files map[string]archived) {
	t.Helper()
	zr, err := zip.OpenReader(path)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	files = map[string]archived{}
	for _, f := range zr.File {
		names = append(names, f.Name)
		if f.Mode().IsDir() {
			continue
		}
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		files[f.Name] = archived{mode: f.Mode(), mtime: f.Modified, data: data}
	}
	return names, files
}
