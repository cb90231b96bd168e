// Command release builds the release archives (`make release`): for every
// target a static binary stamped with the version, packed with the
// documentation, the example configuration, the systemd unit, the Grafana
// dashboards and the alert rules into
// storagenode-exporter-VERSION.OS-ARCH.tar.gz (.zip for Windows), whose
// entries lie under a folder of the same name; and SHA256SUMS over the
// archives.
//
//	go run ./internal/release [-version V] [-out dist] [-targets linux/amd64,windows/amd64]
//
// The version defaults to `git describe --tags --always --dirty`. Binaries
// are built with CGO_ENABLED=0, -trimpath and
// -ldflags "-s -w -X main.version=VERSION". The archives are reproducible:
// entries in sorted order, owned by 0:0, with fixed modes and the commit's
// time (SOURCE_DATE_EPOCH, when set, instead) as their time.
//
// With -binary it builds a single binary for one -target and packs nothing
// (the Dockerfile's build stage: the image gets the binary the archives
// get):
//
//	go run ./internal/release -binary /out/storagenode-exporter -target linux/arm/v7 -version V
package main

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/flate"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"time"
)

// DefaultTargets are the platforms of a release, as Docker names them
// (OS/ARCH[/VARIANT]): linux/arm/v6 is the Raspberry Pi Zero and 1.
const DefaultTargets = "linux/amd64,linux/arm64,linux/arm/v7,linux/arm/v6,windows/amd64,darwin/arm64,darwin/amd64,freebsd/amd64"

// Name is the binary's and the archives' name.
const Name = "storagenode-exporter"

// contents are what each archive holds besides the binary: paths relative to
// the repository root, patterns allowed. A pattern that matches nothing is
// an error, but for optional.
var contents = []string{
	"LICENSE",
	"README.md",
	"deploy/README.md",
	"deploy/config.example.yml",
	"deploy/storagenode-exporter.service",
	"grafana/*.json",
	"alerts/*.rules.yml",
	"alerts/alertmanager.yml",
}

// optional are contents whose absence is reported, not an error.
var optional = map[string]bool{"LICENSE": true}

func main() {
	version := flag.String("version", "", "version stamped into the binaries and the archive names (default: git describe --tags --always --dirty)")
	out := flag.String("out", "dist", "directory the archives and SHA256SUMS are written to")
	targets := flag.String("targets", DefaultTargets, "comma-separated OS/ARCH[/VARIANT] targets")
	binary := flag.String("binary", "", "only build the binary of -target to this path")
	one := flag.String("target", runtime.GOOS+"/"+runtime.GOARCH, "the target of -binary")
	flag.Parse()
	if err := run(*version, *out, *targets, *binary, *one); err != nil {
		fmt.Fprintln(os.Stderr, "release:", err)
		os.Exit(1)
	}
}

func run(version, out, targets, binary, one string) error {
	root, err := repoRoot()
	if err != nil {
		return err
	}
	if binary != "" {
		t, err := ParseTarget(one)
		if err != nil {
			return err
		}
		return Build(root, t, version, binary)
	}
	if version == "" {
		if version, err = gitOutput(root, "describe", "--tags", "--always", "--dirty"); err != nil {
			return fmt.Errorf("version: %w (give -version)", err)
		}
	}
	mtime, err := sourceDate(root)
	if err != nil {
		return err
	}
	var ts []Target
	for _, s := range strings.Split(targets, ",") {
		t, err := ParseTarget(strings.TrimSpace(s))
		if err != nil {
			return err
		}
		ts = append(ts, t)
	}
	_, err = Release(Config{Root: root, Out: out, Version: version, Mtime: mtime, Targets: ts, Log: os.Stderr})
	return err
}

// Target is a platform to build for.
type Target struct {
	OS, Arch string
	ARM      string // GOARM for arm: "6" or "7"
}

// ParseTarget reads a platform as Docker names them: OS/ARCH, OS/arm/v6,
// OS/arm/v7, and OS/arm64/v8 (the same as OS/arm64).
func ParseTarget(s string) (Target, error) {
	p := strings.Split(s, "/")
	switch {
	case len(p) == 2 && p[0] != "" && p[1] != "" && p[1] != "arm":
		return Target{OS: p[0], Arch: p[1]}, nil
	case len(p) == 3 && p[0] != "" && p[1] == "arm" && (p[2] == "v6" || p[2] == "v7"):
		return Target{OS: p[0], Arch: p[1], ARM: p[2][1:]}, nil
	case len(p) == 3 && p[0] != "" && p[1] == "arm64" && p[2] == "v8":
		return Target{OS: p[0], Arch: p[1]}, nil
	}
	return Target{}, fmt.Errorf("target %q: want OS/ARCH, OS/arm/v6, OS/arm/v7 or OS/arm64/v8", s)
}

func (t Target) String() string {
	if t.ARM != "" {
		return t.OS + "/" + t.Arch + "/v" + t.ARM
	}
	return t.OS + "/" + t.Arch
}

// Suffix is the target in archive names: linux-amd64, linux-armv7.
func (t Target) Suffix() string {
	if t.ARM != "" {
		return t.OS + "-" + t.Arch + "v" + t.ARM
	}
	return t.OS + "-" + t.Arch
}

// Exe is the binary's file name.
func (t Target) Exe() string {
	if t.OS == "windows" {
		return Name + ".exe"
	}
	return Name
}

// Build builds the binary for t, stamped with version, to out.
func Build(root string, t Target, version, out string) error {
	out, err := filepath.Abs(out)
	if err != nil {
		return err
	}
	cmd := exec.Command("go", "build", "-trimpath", "-buildvcs=auto",
		"-ldflags", "-s -w -X main.version="+version, "-o", out, "./cmd/"+Name)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS="+t.OS, "GOARCH="+t.Arch, "GOARM="+t.ARM)
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build for %s: %v\n%s", t, err, b)
	}
	return nil
}

// Config says what Release builds.
type Config struct {
	Root    string // the repository
	Out     string // created if missing
	Version string
	Mtime   time.Time // of every archive entry
	Targets []Target
	Log     io.Writer // progress; nil: none
}

// Release builds and packs every target into cfg.Out and writes SHA256SUMS
// over the archives; it returns the archives' paths.
func Release(cfg Config) ([]string, error) {
	logw := cfg.Log
	if logw == nil {
		logw = io.Discard
	}
	files, missing, err := Contents(cfg.Root)
	if err != nil {
		return nil, err
	}
	for _, m := range missing {
		fmt.Fprintf(logw, "release: %s does not exist in the repository: not in the archives\n", m)
	}
	if err := os.MkdirAll(cfg.Out, 0o755); err != nil {
		return nil, err
	}
	tmp, err := os.MkdirTemp(cfg.Out, ".build-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	var archives []string
	for _, t := range cfg.Targets {
		bin := filepath.Join(tmp, t.Suffix(), t.Exe())
		if err := Build(cfg.Root, t, cfg.Version, bin); err != nil {
			return nil, err
		}
		top := Name + "-" + cfg.Version + "." + t.Suffix()
		entries := append([]Entry{{Name: t.Exe(), Src: bin, Mode: 0o755}}, files...)
		name := top + ".tar.gz"
		if t.OS == "windows" {
			name = top + ".zip"
		}
		archive := filepath.Join(cfg.Out, name)
		if err := writeArchive(archive, top, entries, cfg.Mtime); err != nil {
			return nil, err
		}
		fi, err := os.Stat(archive)
		if err != nil {
			return nil, err
		}
		fmt.Fprintf(logw, "%s  %.1f MiB\n", archive, float64(fi.Size())/(1<<20))
		archives = append(archives, archive)
	}
	if err := WriteSums(filepath.Join(cfg.Out, "SHA256SUMS"), archives); err != nil {
		return nil, err
	}
	return archives, nil
}

// Entry is a file of an archive.
type Entry struct {
	Name string // slash-separated, relative to the archive's top folder
	Src  string // the file to copy
	Mode fs.FileMode
}

// Contents returns the files of the repository every archive holds, sorted,
// and the optional ones that do not exist.
func Contents(root string) (files []Entry, missing []string, err error) {
	for _, pattern := range contents {
		matches, err := filepath.Glob(filepath.Join(root, filepath.FromSlash(pattern)))
		if err != nil {
			return nil, nil, err
		}
		if len(matches) == 0 {
			if optional[pattern] {
				missing = append(missing, pattern)
				continue
			}
			return nil, nil, fmt.Errorf("%s: no such file in %s", pattern, root)
		}
		for _, m := range matches {
			rel, err := filepath.Rel(root, m)
			if err != nil {
				return nil, nil, err
			}
			files = append(files, Entry{Name: filepath.ToSlash(rel), Src: m, Mode: 0o644})
		}
	}
	sort.Slice(files, func(i, j int) bool { return files[i].Name < files[j].Name })
	return files, missing, nil
}

// writeArchive writes the entries under the folder top to file: a zip file
// when its name ends in .zip, else a gzip-compressed tar file. The folders come
// first, then the files, each group sorted.
func writeArchive(file, top string, entries []Entry, mtime time.Time) error {
	dirs := map[string]bool{top + "/": true}
	for _, e := range entries {
		for d := path.Dir(e.Name); d != "."; d = path.Dir(d) {
			dirs[top+"/"+d+"/"] = true
		}
	}
	var names []string
	for d := range dirs {
		names = append(names, d)
	}
	sort.Strings(names)
	sorted := append([]Entry(nil), entries...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Name < sorted[j].Name })

	f, err := os.Create(file)
	if err != nil {
		return err
	}
	defer f.Close()
	if strings.HasSuffix(file, ".zip") {
		err = writeZip(f, top, names, sorted, mtime)
	} else {
		err = writeTarGz(f, top, names, sorted, mtime)
	}
	if err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	return f.Close()
}

func writeTarGz(w io.Writer, top string, dirs []string, entries []Entry, mtime time.Time) error {
	gz, err := gzip.NewWriterLevel(w, gzip.BestCompression)
	if err != nil {
		return err
	}
	tw := tar.NewWriter(gz)
	mtime = mtime.UTC().Truncate(time.Second)
	for _, d := range dirs {
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: d, Mode: 0o755, ModTime: mtime}); err != nil {
			return err
		}
	}
	for _, e := range entries {
		data, err := os.ReadFile(e.Src)
		if err != nil {
			return err
		}
		h := &tar.Header{Typeflag: tar.TypeReg, Name: top + "/" + e.Name, Mode: int64(e.Mode.Perm()), Size: int64(len(data)), ModTime: mtime}
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
		if _, err := tw.Write(data); err != nil {
			return err
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}
	return gz.Close()
}

func writeZip(w io.Writer, top string, dirs []string, entries []Entry, mtime time.Time) error {
	zw := zip.NewWriter(w)
	zw.RegisterCompressor(zip.Deflate, func(w io.Writer) (io.WriteCloser, error) {
		return flate.NewWriter(w, flate.BestCompression)
	})
	mtime = mtime.UTC().Truncate(time.Second)
	for _, d := range dirs {
		h := &zip.FileHeader{Name: d, Method: zip.Store, Modified: mtime}
		h.SetMode(fs.ModeDir | 0o755)
		if _, err := zw.CreateHeader(h); err != nil {
			return err
		}
	}
	for _, e := range entries {
		data, err := os.ReadFile(e.Src)
		if err != nil {
			return err
		}
		h := &zip.FileHeader{Name: top + "/" + e.Name, Method: zip.Deflate, Modified: mtime}
		h.SetMode(e.Mode.Perm())
		fw, err := zw.CreateHeader(h)
		if err != nil {
			return err
		}
		if _, err := fw.Write(data); err != nil {
			return err
		}
	}
	return zw.Close()
}

// WriteSums writes the SHA-256 of each file, as sha256sum prints it
// (`sha256sum -c SHA256SUMS` checks them), sorted by name.
func WriteSums(path string, files []string) error {
	var lines []string
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(data)
		lines = append(lines, hex.EncodeToString(sum[:])+"  "+filepath.Base(f)+"\n")
	}
	sort.Slice(lines, func(i, j int) bool { return lines[i][66:] < lines[j][66:] })
	return os.WriteFile(path, []byte(strings.Join(lines, "")), 0o644)
}

// sourceDate is the time of every archive entry: SOURCE_DATE_EPOCH when
// set (the reproducible-builds convention), else the commit's time.
func sourceDate(root string) (time.Time, error) {
	s := os.Getenv("SOURCE_DATE_EPOCH")
	if s == "" {
		var err error
		if s, err = gitOutput(root, "log", "-1", "--format=%ct"); err != nil {
			return time.Time{}, fmt.Errorf("commit time: %w (set SOURCE_DATE_EPOCH)", err)
		}
	}
	sec, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return time.Time{}, fmt.Errorf("SOURCE_DATE_EPOCH %q: %w", s, err)
	}
	return time.Unix(sec, 0).UTC(), nil
}

func gitOutput(root string, args ...string) (string, error) {
	cmd := exec.Command("git", args...)
	cmd.Dir = root
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("git %s: %v %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return strings.TrimSpace(string(out)), nil
}

// repoRoot is the directory of go.mod, from the working directory up.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod in the working directory or above it")
		}
		dir = parent
	}
}
