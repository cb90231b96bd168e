package sink

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"fmt"
	"time"
)

// FingerprintSize is how many bytes of a log's start its fingerprint
// covers: enough for several lines, whose timestamps make them unique.
const FingerprintSize = 4096

// Fingerprint returns the fingerprint of a log whose content starts with
// prefix: the SHA-256 of its first FingerprintSize bytes, or of all of
// prefix when it is shorter (a file that will grow). Two files with the
// same fingerprint are the same log: a renamed, copied or compressed one.
func Fingerprint(prefix []byte) (n int64, sum []byte) {
	if len(prefix) > FingerprintSize {
		prefix = prefix[:FingerprintSize]
	}
	s := sha256.Sum256(prefix)
	return int64(len(prefix)), s[:]
}

const positionCols = `p.id, n.name, p.path, p.dev, p.inode, p.fp_len, p.fp, p.start_offset, p.byte_offset, p.state,
	coalesce(p.owner, 0), p.updated
	FROM positions p JOIN nodes n ON n.id = p.node`

// Positions returns every position stored for a node, most recently
// updated first.
func (db *DB) Positions(ctx context.Context, node string) ([]Position, error) {
	rows, err := db.sql.QueryContext(ctx, "SELECT "+positionCols+" WHERE n.name = ? ORDER BY p.updated DESC, p.id DESC", node)
	if err != nil {
		return nil, db.errf("read positions of", err)
	}
	defer rows.Close()
	var out []Position
	for rows.Next() {
		p, err := scanPosition(rows)
		if err != nil {
			return nil, db.errf("read positions of", err)
		}
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, db.errf("read positions of", err)
	}
	return out, nil
}

// Position returns the position of a node's source path (the most recently
// updated one, if several were stored); ok is false when there is none.
// The caller resumes from it only if Dev and Inode still match the file at
// path and Offset is not beyond its size.
func (db *DB) Position(ctx context.Context, node, path string) (p Position, ok bool, err error) {
	row := db.sql.QueryRowContext(ctx, "SELECT "+positionCols+" WHERE n.name = ? AND p.path = ? ORDER BY p.updated DESC, p.id DESC LIMIT 1", node, path)
	p, err = scanPosition(row)
	if err == sql.ErrNoRows {
		return Position{}, false, nil
	}
	if err != nil {
		return Position{}, false, db.errf("read position of", err)
	}
	return p, true, nil
}

func scanPosition(s interface{ Scan(...any) error }) (Position, error) {
	var p Position
	var dev, inode, updated int64
	if err := s.Scan(&p.ID, &p.Node, &p.Path, &dev, &inode, &p.FingerprintLen, &p.Fingerprint, &p.Start, &p.Offset, &p.State,
		&p.Owner, &updated); err != nil {
		return Position{}, err
	}
	p.Dev, p.Inode = uint64(dev), uint64(inode)
	p.Updated = time.Unix(updated, 0)
	return p, nil
}

// pruneChunk is how many events one transaction of Prune deletes, so that a
// live writer waits for at most one chunk.
const pruneChunk = 20_000

// Prune deletes the events and history rows older than before, in chunks
// of their own transactions so that writes go on meanwhile. Positions are
// kept: they keep re-ingesting the pruned lines from adding them again.
// It returns the number of events deleted.
func (db *DB) Prune(ctx context.Context, before time.Time) (int64, error) {
	limit := idFloor(before)
	var total int64
	for {
		n, err := db.pruneStep(ctx, func(tx *sql.Tx) (int64, error) {
			res, err := tx.ExecContext(ctx, "DELETE FROM event_rows WHERE id IN (SELECT id FROM event_rows WHERE id < ? ORDER BY id LIMIT ?)", limit, pruneChunk)
			if err != nil {
				return 0, err
			}
			return res.RowsAffected()
		})
		total += n
		if err != nil {
			return total, err
		}
		if n < pruneChunk {
			break
		}
	}
	iso := textTime(before)
	_, err := db.pruneStep(ctx, func(tx *sql.Tx) (int64, error) {
		for _, q := range []struct {
			sql string
			arg any
		}{
			{"DELETE FROM upload_rejections WHERE minute < ?", (limit >> seqBits) / 60},
			{"DELETE FROM reputation_history WHERE timestamp < ?", iso},
			{"DELETE FROM storage_snapshots WHERE timestamp < ?", iso},
			{"DELETE FROM hashstore_compaction_history WHERE last_run_iso < ?", iso},
		} {
			if _, err := tx.ExecContext(ctx, q.sql, q.arg); err != nil {
				return 0, err
			}
		}
		return 0, nil
	})
	return total, err
}

func (db *DB) pruneStep(ctx context.Context, f func(*sql.Tx) (int64, error)) (int64, error) {
	db.wmu.Lock()
	defer db.wmu.Unlock()
	if db.wconn == nil {
		return 0, db.errf("prune", fmt.Errorf("database is closed or read-only"))
	}
	tx, err := db.wconn.BeginTx(ctx, nil)
	if err != nil {
		return 0, db.errf("prune", err)
	}
	defer tx.Rollback()
	n, err := f(tx)
	if err != nil {
		return 0, db.errf("prune", err)
	}
	if err := tx.Commit(); err != nil {
		return 0, db.errf("prune", err)
	}
	return n, nil
}
