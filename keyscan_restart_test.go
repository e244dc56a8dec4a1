package redline

import (
	"context"
	"fmt"
	"testing"
	"time"

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
