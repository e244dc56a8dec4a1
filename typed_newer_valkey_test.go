package redline

import (
	"context"
	"testing"
	"time"

	"github.com/redline-go/redline/redistest"
)

// TestClusterMyShardIDOnValkey: CLUSTER MYSHARDID (Redis 7.2+, Valkey 8.0) round trip
// on a real Valkey 8.0 cluster: each node answers its shard's ID, distinct per
// primary. (Valkey 8.0 has none of the Redis 7.4/8.0 hash-field commands: see
// typed_hfe_test.go.)
func TestClusterMyShardIDOnValkey(t *testing.T) {
	srv := valkeyForSlotStats(t) // Valkey 8.0, or the matrix column's server when it is one
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cl, err := redistest.Start(ctx, redistest.Config{Masters: 3, RedisServer: srv.Path})
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	c := newTestClient(t, cl, Options{})
	id, err := c.ClusterMyShardID(ctx)
	check(t, err)
	if len(id) != 40 {
		t.Fatalf("ClusterMyShardID = %q; want 40 hex digits", id)
	}
	// Each primary is a shard of its own: three IDs, the typed answer one of them.
	ids, err := onNodes(c, ctx, EveryPrimary, Result.Text, "CLUSTER", "MYSHARDID")
	check(t, err)
	seen := map[string]bool{}
	for _, v := range ids {
		seen[v] = true
	}
	if len(seen) != 3 || !seen[id] {
		t.Fatalf("CLUSTER MYSHARDID on the primaries: %v; want 3 distinct IDs, %s among them", ids, id)
	}
}
