package sink

import (
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"

	"github.com/storagenode-exporter/storagenode-exporter/internal/logfile"
)

// StartAtEnd prepares a node's log file for following (serve): when none of
// the node's positions covers the file's content, it records one at the
// file's last line end, so that the next File call starts there, as the
// metrics do, instead of ingesting the whole history. When one does (serve
// ran before on this file), nothing changes and File resumes from it,
// catching up the lines written meanwhile. A missing file is fine: a file
// that appears later is new and is read from its start.
func (db *DB) StartAtEnd(ctx context.Context, node, path string) error {
	f, err := logfile.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	prefix := make([]byte, FingerprintSize)
	n, err := f.ReadAt(prefix, 0)
	if err != nil && err != io.EOF {
		return err
	}
	prefix = prefix[:n]
	if len(prefix) == 0 || len(prefix) >= 2 && prefix[0] == 0x1f && prefix[1] == 0x8b {
		return nil // empty, or compressed: nothing is appended to it
	}
	positions, err := db.Positions(ctx, node)
	if err != nil {
		return err
	}
	for _, p := range positions {
		if p.FingerprintLen <= 0 || p.FingerprintLen > int64(len(prefix)) {
			continue
		}
		if _, sum := Fingerprint(prefix[:p.FingerprintLen]); bytes.Equal(sum, p.Fingerprint) {
			return nil // known: File resumes from there
		}
	}
	end, err := lastLineEnd(f, fi.Size())
	if err != nil {
		return err
	}
	flen, sum := Fingerprint(prefix)
	dev, inode := fileID(fi)
	return db.WriteBatch(ctx, nil, &Position{Node: node, Path: path, Dev: dev, Inode: inode,
		FingerprintLen: flen, Fingerprint: sum, Offset: end})
}

// lastLineEnd returns the offset just after the last newline before size.
func lastLineEnd(f io.ReaderAt, size int64) (int64, error) {
	buf := make([]byte, 64<<10)
	for end := size; end > 0; {
		start := max(0, end-int64(len(buf)))
		n, err := f.ReadAt(buf[:end-start], start)
		if err != nil && err != io.EOF {
			return 0, err
		}
		if i := bytes.LastIndexByte(buf[:n], '\n'); i >= 0 {
			return start + int64(i) + 1, nil
		}
		end = start
	}
	return 0, nil
}
