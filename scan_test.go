package redline

import (
	"fmt"
	"testing"
)

func TestScanEveryKeyOnce(t *testing.T) {
	// Not parallel: it counts the whole keyspace's matching keys.
	c := newTestClient(t, plain(t), Options{})
	ctx := t.Context()
	const n = 10000
	for start := 0; start < n; start += 1000 {
		args := []any{"MSET"}
		for i := start; i < start+1000; i++ {
			args = append(args, fmt.Sprintf("scan:%d", i), i)
		}
		if err := c.Do(ctx, args...).Err(); err != nil {
			t.Fatal(err)
		}
	}
	seen := make(map[string]int, n)
	it := c.Scan(ScanOptions{Match: "scan:*", Count: 500})
	for it.Next(ctx) {
		seen[it.Key()]++
	}
	if err := it.Err(); err != nil {
		t.Fatal(err)
	}
	if len(seen) != n {
		t.Fatalf("SCAN found %d distinct keys, want %d", len(seen), n)
	}
	for k, times := range seen {
		if times != 1 {
			t.Fatalf("key %s returned %d times", k, times)
		}
	}
	if it.Restarts() != 0 {
		t.Errorf("%d restarts on a stable cluster", it.Restarts())
	}
	del := []any{"DEL"}
	for k := range seen {
		del = append(del, k)
	}
	if err := c.Do(ctx, del...).Err(); err != nil {
		t.Fatal(err)
	}
}
