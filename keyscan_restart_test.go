package redline

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/redline-go/redline/hashslot"
	"github.com/redline-go/redline/redistest"
)

// TestHScanPrimaryRestartedInPlace: the key's primary restarts at the same address (a
// crash and restart with its data, or a managed service replacing the process behind
// one endpoint). The new process seeds its hash function anew, so the old process's
// cursor means something else there: the scan must start over (the step answered over
// a new connection), or fields present for the whole scan are silently never returned.
func TestHScanPrimaryRestartedInPlace(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	cl, err := redistest.Start(ctx, redistest.Config{Masters: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	c := newTestClient(t, cl, Options{})
	const key, n = "hscan:restart", 5000
	args := []any{"HSET", key}
	for i := range n {
		args = append(args, fmt.Sprintf("f%05d", i), "v")
	}
	if err := c.Do(ctx, args...).Err(); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	it := c.HScan(key, ScanOptions{Count: 50})
	for len(seen) < 500 && it.Next(ctx) {
		seen[it.Field()] = true
	}
	nd := cl.Node(0)
	if _, err := nd.Do(ctx, "SAVE"); err != nil {
		t.Fatal(err)
	}
	if err := nd.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	if err := cl.WaitHealthy(ctx); err != nil {
		t.Fatal(err)
	}
	if v, err := nd.Do(ctx, "HLEN", key); err != nil || v.Int != n {
		t.Fatalf("after the restart HLEN %v %v", v.Int, err)
	}
	for it.Next(ctx) {
		seen[it.Field()] = true
	}
	if it.Err() != nil {
		t.Logf("ended with %v", it.Err())
		return // reported: acceptable
	}
	t.Logf("%d fields, %d restarts", len(seen), it.Restarts())
	if len(seen) != n {
		t.Fatalf("HScan returned %d of the %d fields, Err nil, Restarts %d: %d fields silently lost",
			len(seen), n, it.Restarts(), n-len(seen))
	}
}

// TestHScanDuringMigration: the hash was moved to the migration's target while the
// slot is still the source's: every step is redirected by ASK to the target. The scan
// starts over there once, then goes on (each step over the target's same connection),
// and returns every field.
func TestHScanDuringMigration(t *testing.T) {
	t.Parallel()
	cl := redistest.Run(t, redistest.Config{Masters: 2, NoProxy: true})
	c := newTestClient(t, cl, Options{})
	ctx := t.Context()
	h := "keyscan:{asking}"
	args := []any{"HSET", h}
	for i := range 700 { // more than hash-max-listpack-entries (512): a hashtable
		args = append(args, fmt.Sprintf("f%d", i), i)
	}
	if err := c.Do(ctx, args...).Err(); err != nil {
		t.Fatal(err)
	}
	slot := int(hashslot.Key(h))
	topo, err := cl.Topology(ctx)
	if err != nil {
		t.Fatal(err)
	}
	src := topo.Owner(slot).Node
	dst := topo.OtherMaster(src)
	it := c.HScan(h, ScanOptions{Count: 20})
	got := map[string]bool{}
	for i := 0; i < 30 && it.Next(ctx); i++ {
		got[it.Field()] = true
	}
	m, err := cl.BeginMigration(ctx, slot, dst)
	if err != nil {
		t.Fatal(err)
	}
	if n, err := m.MoveKeys(ctx, 10); err != nil || n != 1 {
		t.Fatalf("MoveKeys: %d %v", n, err)
	}
	for it.Next(ctx) {
		got[it.Field()] = true
	}
	if err := it.Err(); err != nil {
		t.Fatal(err)
	}
	if len(got) != 700 {
		t.Fatalf("%d fields during the migration, want 700", len(got))
	}
	if r := it.Restarts(); r < 1 || r > 2 {
		t.Fatalf("Restarts %d during one migration, want 1 (2 at most)", r)
	}
	if err := m.Finish(ctx); err != nil {
		t.Fatal(err)
	}
}
