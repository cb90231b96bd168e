package sink

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/storagenode-exporter/storagenode-exporter/nodeapi"
	"github.com/storagenode-exporter/storagenode-exporter/nodeapi/nodeapitest"
)

// fixturePaystubs asks the fixture node of testdata/nodeapi/earnings (14
// months, four satellites) for its paystubs from..to, over HTTP.
func fixturePaystubs(t *testing.T, node, from, to string) []Paystub {
	t.Helper()
	srv := nodeapitest.NewServer(t, "../testdata/nodeapi", "earnings")
	c, err := nodeapi.NewClient(srv.URL, 10*time.Second, nil)
	if err != nil {
		t.Fatal(err)
	}
	f, _ := time.Parse("2006-01", from)
	to2, _ := time.Parse("2006-01", to)
	stubs, err := c.Paystubs(context.Background(), f, to2)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]Paystub, len(stubs))
	for i, p := range stubs {
		out[i] = Paystub{Node: node, NodeID: "id-of-" + node, Paystub: p}
	}
	return out
}

func storedPaystubs(t *testing.T, db *DB, node string) []Paystub {
	t.Helper()
	sel, err := db.Select(context.Background(), node, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	ps, err := sel.Paystubs(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return ps
}

// A node's paystubs are stored once per satellite and period: the same
// history written again adds nothing, a wiped node's last month alone
// leaves the 14 months stored, and other figures for a stored period
// replace it and count a revision.
func TestPaystubsOncePerPeriod(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := openTest(t, filepath.Join(t.TempDir(), "p.db"))
	all := fixturePaystubs(t, "n1", "2025-06", "2026-07")
	if len(all) != 56 {
		t.Fatalf("fixture: %d paystubs, want 14 months of 4 satellites", len(all))
	}
	b := &Batch{Paystubs: all}
	if err := db.Write(ctx, b); err != nil {
		t.Fatal(err)
	}
	if b.PaystubsAdded != 56 || len(b.PaystubsRevised) != 0 {
		t.Errorf("first write: added %d, revised %d", b.PaystubsAdded, len(b.PaystubsRevised))
	}
	b = &Batch{Paystubs: all}
	if err := db.Write(ctx, b); err != nil {
		t.Fatal(err)
	}
	if b.PaystubsAdded != 0 || len(b.PaystubsRevised) != 0 {
		t.Errorf("same history again: added %d, revised %d", b.PaystubsAdded, len(b.PaystubsRevised))
	}

	// The node's database wiped: it returns only the last month.
	last := fixturePaystubs(t, "n1", "2026-07", "2026-07")
	if len(last) != 4 {
		t.Fatalf("last month: %d paystubs", len(last))
	}
	b = &Batch{Paystubs: last}
	if err := db.Write(ctx, b); err != nil {
		t.Fatal(err)
	}
	if b.PaystubsAdded != 0 || len(b.PaystubsRevised) != 0 {
		t.Errorf("wiped node: added %d, revised %d", b.PaystubsAdded, len(b.PaystubsRevised))
	}
	got := storedPaystubs(t, db, "n1")
	want := append([]Paystub(nil), all...)
	for i := range want {
		want[i].Created = want[i].Created.Truncate(time.Millisecond) // stored to the millisecond
	}
	sortPaystubs(want)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("stored after the wipe (-want +got):\n%s", diff)
	}

	// A correction of a stored month: the node's figures, one revision.
	fixed := last[1]
	fixed.Distributed += 250_000
	fixed.Codes = "E:T"
	b = &Batch{Paystubs: []Paystub{fixed, last[2]}}
	if err := db.Write(ctx, b); err != nil {
		t.Fatal(err)
	}
	if b.PaystubsAdded != 0 || len(b.PaystubsRevised) != 1 || b.PaystubsRevised[0].SatelliteID != fixed.SatelliteID {
		t.Errorf("correction: added %d, revised %+v", b.PaystubsAdded, b.PaystubsRevised)
	}
	got = storedPaystubs(t, db, "n1")
	if len(got) != 56 {
		t.Fatalf("%d stored after the correction", len(got))
	}
	revised := 0
	for _, p := range got {
		if p.Revisions == 0 {
			continue
		}
		revised++
		if p.SatelliteID != fixed.SatelliteID || p.Period != "2026-07" || p.Revisions != 1 ||
			p.Distributed != fixed.Distributed || p.Codes != "E:T" {
			t.Errorf("revised row: %+v", p)
		}
	}
	if revised != 1 {
		t.Errorf("%d rows revised, want 1", revised)
	}

	// Another node given the same name (another identity): its paystubs
	// are its own, not revisions of the first one's.
	other := fixturePaystubs(t, "n1", "2026-07", "2026-07")
	for i := range other {
		other[i].NodeID = "another identity"
		other[i].Paid++
	}
	b = &Batch{Paystubs: other}
	if err := db.Write(ctx, b); err != nil {
		t.Fatal(err)
	}
	if b.PaystubsAdded != 4 || len(b.PaystubsRevised) != 0 {
		t.Errorf("another identity named n1: added %d, revised %d", b.PaystubsAdded, len(b.PaystubsRevised))
	}
	if n := len(storedPaystubs(t, db, "n1")); n != 60 {
		t.Errorf("n1: %d paystubs, want 56 + 4", n)
	}

	// Another node's paystubs are its own; a node without any has none.
	if err := db.Write(ctx, &Batch{Paystubs: fixturePaystubs(t, "n2", "2026-06", "2026-07")}); err != nil {
		t.Fatal(err)
	}
	if n := len(storedPaystubs(t, db, "n2")); n != 8 {
		t.Errorf("n2: %d paystubs", n)
	}
	if n := len(storedPaystubs(t, db, "")); n != 68 {
		t.Errorf("every node: %d paystubs", n)
	}
}

func sortPaystubs(ps []Paystub) {
	less := func(a, b *Paystub) bool {
		if a.Node != b.Node {
			return a.Node < b.Node
		}
		if a.SatelliteID != b.SatelliteID {
			return a.SatelliteID < b.SatelliteID
		}
		return a.Period < b.Period
	}
	for i := 1; i < len(ps); i++ {
		for j := i; j > 0 && less(&ps[j], &ps[j-1]); j-- {
			ps[j], ps[j-1] = ps[j-1], ps[j]
		}
	}
}

// A database of schema version 3 gets the paystubs table at Open and keeps
// its rows.
func TestMigrateFromV3(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "v3.db")
	raw, err := sql.Open("sqlite", "file:"+path+"?_pragma=journal_mode(WAL)&_txlock=immediate")
	if err != nil {
		t.Fatal(err)
	}
	conn, _ := raw.Conn(ctx)
	if err := migrate(ctx, conn, 3); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		"INSERT INTO nodes (id, name) VALUES (1, 'old')",
		"INSERT INTO storage_snapshots (timestamp, node_name, used_bytes) VALUES ('2026-09-05T10:00:00.000+00:00', 'old', 42)",
		"INSERT INTO positions (node, path, dev, inode, fp_len, byte_offset, updated, start_offset) VALUES (1, '/old.log', 1, 2, 0, 77, 0, 10)",
	} {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	if v, _ := schemaVersion(ctx, conn); v != 3 {
		t.Fatalf("version %d", v)
	}
	conn.Close()
	raw.Close()

	db := openTest(t, path)
	if v, _ := schemaVersion(ctx, db.SQL()); v != SchemaVersion() || v != 4 {
		t.Errorf("version %d after Open, want 4", v)
	}
	var used int64
	if err := db.SQL().QueryRow("SELECT used_bytes FROM storage_snapshots WHERE node_name = 'old'").Scan(&used); err != nil || used != 42 {
		t.Errorf("old snapshot: %d %v", used, err)
	}
	if p, ok, _ := db.Position(ctx, "old", "/old.log"); !ok || p.Offset != 77 || p.Start != 10 {
		t.Errorf("old position: %+v", p)
	}
	stubs := fixturePaystubs(t, "old", "2026-05", "2026-07")
	if err := db.Write(ctx, &Batch{Paystubs: stubs}); err != nil {
		t.Fatal(err)
	}
	if n := len(storedPaystubs(t, db, "old")); n != 12 {
		t.Errorf("%d paystubs after migration, want 12", n)
	}
	db.Close()
	openTest(t, path) // opening again is a no-op
}
