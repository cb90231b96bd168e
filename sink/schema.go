package sink

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/storagenode-exporter/storagenode-exporter/parser"
)

// migrations[i] takes the schema from version i to i+1. Append only: a
// released migration never changes.
var migrations = []string{
	// 1: events, their lookup tables and the read positions.
	`
CREATE TABLE nodes (
	id   INTEGER PRIMARY KEY,
	name TEXT NOT NULL UNIQUE
);
CREATE TABLE satellites (
	id           INTEGER PRIMARY KEY,
	satellite_id TEXT NOT NULL UNIQUE, -- the NodeID as logged
	name         TEXT NOT NULL         -- us1, eu1, ap1, saltlake, ... or the ID
);
-- One row per transfer outcome that counts under the outcome rules.
CREATE TABLE event_rows (
	id           INTEGER PRIMARY KEY, -- (unix seconds << 24) | sequence within the second
	node         INTEGER NOT NULL,    -- nodes.id
	satellite    INTEGER,             -- satellites.id; NULL when the line names none
	action       INTEGER NOT NULL,    -- 0 none, 1 GET, 2 GET_AUDIT, 3 GET_REPAIR, 4 PUT, 5 PUT_REPAIR, 6 DELETE, 7 other
	status       INTEGER NOT NULL,    -- 1 success, 2 canceled, 3 failed
	size         INTEGER,             -- the size field; NULL when absent
	piece        BLOB,                -- 32 bytes decoded from base32; TEXT when the ID is not that
	ip           BLOB,                -- IPv4: the address as an integer minus 2^31; IPv6: 16 bytes
	country      TEXT,                -- ISO alpha-2 of ip (ZZ unknown); NULL without an address
	ms           INTEGER,             -- milliseconds of the second; NULL when 0
	error_reason TEXT,                -- the error field, or a cancel's reason
	duration_ms  INTEGER              -- from pairing with the started line; NULL when not timed
);
-- Where each source was read up to, committed with the events before it.
CREATE TABLE positions (
	id          INTEGER PRIMARY KEY,
	node        INTEGER NOT NULL,  -- nodes.id
	path        TEXT NOT NULL,
	dev         INTEGER NOT NULL,
	inode       INTEGER NOT NULL,
	fp_len      INTEGER NOT NULL,  -- bytes the fingerprint covers (0: none)
	fp          BLOB,              -- SHA-256 of the first fp_len bytes (uncompressed)
	byte_offset INTEGER NOT NULL,  -- bytes read (uncompressed), always at a line end
	state       BLOB,              -- the reader's state at byte_offset (ingest)
	updated     INTEGER NOT NULL   -- unix seconds
);
CREATE INDEX positions_node_path ON positions (node, path);
` + eventsView + `;`,

	// 2: rejections and the node's history.
	`
CREATE TABLE upload_rejections (
	node   INTEGER NOT NULL,  -- nodes.id
	minute INTEGER NOT NULL,  -- unix minutes
	count  INTEGER NOT NULL,
	PRIMARY KEY (node, minute)
) WITHOUT ROWID;
CREATE TABLE reputation_history (
	id                  INTEGER PRIMARY KEY,
	timestamp           TEXT NOT NULL,
	node_name           TEXT NOT NULL,
	satellite           TEXT NOT NULL,
	audit_score         REAL,
	suspension_score    REAL,
	online_score        REAL,
	audit_success_count INTEGER,
	audit_total_count   INTEGER,
	is_disqualified     INTEGER DEFAULT 0,
	is_suspended        INTEGER DEFAULT 0,
	source              TEXT     -- log or api
);
CREATE INDEX idx_reputation_node_time ON reputation_history (node_name, timestamp);
CREATE TABLE storage_snapshots (
	id                INTEGER PRIMARY KEY,
	timestamp         TEXT NOT NULL,
	node_name         TEXT NOT NULL,
	total_bytes       INTEGER,
	used_bytes        INTEGER,
	available_bytes   INTEGER,
	trash_bytes       INTEGER,
	used_percent      REAL,
	trash_percent     REAL,
	available_percent REAL
);
CREATE INDEX idx_storage_node_time ON storage_snapshots (node_name, timestamp);
CREATE TABLE hashstore_compaction_history (
	node_name            TEXT NOT NULL,
	satellite            TEXT NOT NULL,
	store                TEXT NOT NULL,
	last_run_iso         TEXT NOT NULL,
	duration             REAL,
	data_reclaimed_bytes INTEGER,
	data_rewritten_bytes INTEGER,
	table_load           REAL,
	trash_percent        REAL,
	PRIMARY KEY (node_name, satellite, store, last_run_iso)
);
`,

	// 3: one owner of a log's position. A position row is a range of a log
	// the sink holds, [start_offset, byte_offset), owned by the process that
	// extends it; writers are the processes (serve, ingest) that write a
	// node's logs, one of each role per node.
	`
ALTER TABLE positions ADD COLUMN start_offset INTEGER NOT NULL DEFAULT 0; -- first byte the range holds (at a line start)
ALTER TABLE positions ADD COLUMN owner INTEGER;                          -- writers.id extending the range; NULL: none
CREATE TABLE writers (
	id        INTEGER PRIMARY KEY,
	node      INTEGER NOT NULL,  -- nodes.id
	role      TEXT NOT NULL,     -- serve or ingest
	pid       INTEGER NOT NULL,
	host      TEXT NOT NULL,     -- the host name, for messages
	pid_space TEXT NOT NULL,     -- where pid names a process: boot and PID namespace (Linux), else the host name
	started   INTEGER NOT NULL,  -- unix seconds
	heartbeat INTEGER NOT NULL,  -- unix seconds, renewed while the process runs
	UNIQUE (node, role)
);
`,

	// 4: the node API's paystubs, one row per node, satellite and period,
	// so that the history survives the node's own database being wiped.
	// The node is its name and its identity: a name given to another node
	// keeps that node's paystubs apart. Amounts are micro-dollars (1e-6
	// US$) as the node sends them.
	`
CREATE TABLE paystubs (
	node_name       TEXT NOT NULL,
	node_id         TEXT NOT NULL,     -- the node's NodeID (its identity, which a wiped database keeps)
	satellite_id    TEXT NOT NULL,     -- the NodeID
	period          TEXT NOT NULL,     -- YYYY-MM
	created         TEXT,              -- when the satellite issued it; NULL when not sent
	codes           TEXT NOT NULL,     -- colon-separated, e.g. E or O:D; empty for none
	comp_at_rest    INTEGER NOT NULL,
	comp_get        INTEGER NOT NULL,
	comp_put        INTEGER NOT NULL,
	comp_get_repair INTEGER NOT NULL,
	comp_put_repair INTEGER NOT NULL,
	comp_get_audit  INTEGER NOT NULL,
	held            INTEGER NOT NULL,  -- withheld this period
	owed            INTEGER NOT NULL,
	disposed        INTEGER NOT NULL,  -- held amount returned this period
	paid            INTEGER NOT NULL,
	distributed     INTEGER NOT NULL,  -- transferred in this period's payout
	stored          TEXT NOT NULL,     -- when the sink first stored it
	changed         TEXT,              -- when the node last returned other figures for it; NULL: never
	revisions       INTEGER NOT NULL DEFAULT 0, -- how often it did
	PRIMARY KEY (node_name, node_id, satellite_id, period)
) WITHOUT ROWID;
`,
}

// SchemaVersion is the schema version this package writes.
func SchemaVersion() int { return len(migrations) }

// TimeFormat is the layout of the text timestamps: those of the events view
// and of the history tables, as the predecessor wrote them.
const TimeFormat = "2006-01-02T15:04:05.000+00:00"

const b32Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"

// eventsView shows event_rows under the predecessor's column names.
var eventsView = func() string {
	var action, status strings.Builder
	for a := parser.GET; a <= parser.ActionOther; a++ {
		fmt.Fprintf(&action, " WHEN %d THEN '%s'", a, a)
	}
	for _, r := range parser.Results {
		fmt.Fprintf(&status, " WHEN %d THEN '%s'", r, r)
	}
	return `CREATE VIEW events AS SELECT
	e.id AS id,
	strftime('%Y-%m-%dT%H:%M:%f+00:00', (e.id >> 24) + coalesce(e.ms, 0) / 1000.0, 'unixepoch') AS timestamp,
	n.name AS node_name,
	s.satellite_id AS satellite_id,
	s.name AS satellite,
	CASE e.action` + action.String() + ` END AS action,
	CASE e.status` + status.String() + ` END AS status,
	e.size AS size,
	CASE typeof(e.piece) WHEN 'blob' THEN ` + base32SQL("e.piece") + ` ELSE e.piece END AS piece_id,
	` + ipSQL("e.ip") + ` AS remote_ip,
	e.country AS country,
	e.error_reason AS error_reason,
	e.duration_ms AS duration_ms,
	(e.id >> 24) * 1000 + coalesce(e.ms, 0) AS ts_ms
FROM event_rows e JOIN nodes n ON n.id = e.node LEFT JOIN satellites s ON s.id = e.satellite`
}()

// base32SQL is an SQL expression that encodes the 32-byte blob col as the
// 52 characters of base32 without padding, the way piece IDs are logged. It
// works in any SQLite (the sqlite3 shell included): no function of ours.
func base32SQL(col string) string {
	digit := func(j int) string { // the value of hex digit j of h
		if j >= 64 {
			return "0"
		}
		return fmt.Sprintf("(instr('0123456789ABCDEF',substr(h,%d,1))-1)", j+1)
	}
	parts := make([]string, 52)
	for i := range parts {
		bit := 5 * i // the five bits of character i start here
		j := bit / 4
		parts[i] = fmt.Sprintf("substr('%s',((((%s<<4)|%s)>>%d)&31)+1,1)", b32Alphabet, digit(j), digit(j+1), 3-bit%4)
	}
	return "(SELECT " + strings.Join(parts, "||") + " FROM (SELECT hex(" + col + ") AS h))"
}

// ipSQL is an SQL expression that shows the address stored in col as text:
// dotted IPv4, or IPv6 in eight groups without :: compression.
func ipSQL(col string) string {
	v4 := make([]string, 4)
	for i := range v4 {
		v4[i] = fmt.Sprintf("(((%s+2147483648)>>%d)&255)", col, 24-8*i)
	}
	v6 := make([]string, 8)
	for i := range v6 {
		v6[i] = fmt.Sprintf("coalesce(nullif(ltrim(substr(h,%d,4),'0'),''),'0')", 4*i+1)
	}
	return "CASE typeof(" + col + ") WHEN 'integer' THEN " + strings.Join(v4, "||'.'||") +
		" WHEN 'blob' THEN (SELECT lower(" + strings.Join(v6, "||':'||") + ") FROM (SELECT hex(" + col + ") AS h)) END"
}

type querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func schemaVersion(ctx context.Context, q querier) (int, error) {
	var v int
	err := q.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v)
	return v, err
}

// migrate brings the schema to version upto in one transaction.
func migrate(ctx context.Context, conn *sql.Conn, upto int) error {
	tx, err := conn.BeginTx(ctx, nil) // BEGIN IMMEDIATE: see _txlock in Open
	if err != nil {
		return err
	}
	defer tx.Rollback()
	v, err := schemaVersion(ctx, tx)
	if err != nil {
		return err
	}
	if v > len(migrations) {
		return fmt.Errorf("schema version %d is newer than this program's (%d): use a newer storagenode-exporter", v, len(migrations))
	}
	if v >= upto {
		return nil
	}
	if v == 0 {
		rows, err := tx.QueryContext(ctx, "SELECT name FROM sqlite_master WHERE type IN ('table', 'view') ORDER BY name")
		if err != nil {
			return err
		}
		var names []string
		for rows.Next() {
			var n string
			if err := rows.Scan(&n); err != nil {
				rows.Close()
				return err
			}
			names = append(names, n)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		if len(names) > 0 {
			return fmt.Errorf("not a storagenode-exporter database (it has no schema version but tables %s): use a new file",
				strings.Join(names, ", "))
		}
	}
	for i := v; i < upto; i++ {
		if _, err := tx.ExecContext(ctx, migrations[i]); err != nil {
			return fmt.Errorf("migration to schema version %d: %w", i+1, err)
		}
	}
	if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", upto)); err != nil {
		return err
	}
	return tx.Commit()
}
