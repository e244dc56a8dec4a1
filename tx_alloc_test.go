package redline

import (
	"context"
	"testing"
	"time"
)

// TestTxDoAllocs: Tx.Do's arguments and Waiter stay on the caller's stack: its
// dedicated connection is a cluster.Conn, called through cluster.ConnExec, which calls a
// production connection directly (through the interface, both escaped: 4 allocations
// per Tx.Do instead of 2). Tx.Exec, TxPipelined, blocking calls, pub/sub and SCAN go
// through the same helpers.
func TestTxDoAllocs(t *testing.T) {
	skipAllocsUnderRace(t)
	c := newTestClient(t, plain(t), Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	const k = "{rvtx}k"
	var perDo float64
	err := c.Watch(ctx, func(tx *Tx) error {
		perDo = testing.AllocsPerRun(200, func() {
			if err := tx.Do(ctx, "GET", k).Err(); err != nil && err != Nil {
				t.Fatal(err)
			}
		})
		return nil
	}, k)
	if err != nil {
		t.Fatal(err)
	}
	withTx := testing.AllocsPerRun(100, func() {
		if _, err := c.TxPipelined(ctx, func(p *TxPipe) error { p.Do("SET", k, "v"); return nil }); err != nil {
			t.Fatal(err)
		}
	})
	t.Logf("allocs: Tx.Do GET %.1f, TxPipelined SET %.1f", perDo, withTx)
	// Before the engine split Tx.Do GET allocated as below (no escape of args or Waiter).
	if perDo > txDoAllocsBefore {
		t.Errorf("Tx.Do GET allocates %.1f times, %v before the engine split", perDo, txDoAllocsBefore)
	}
}

// txDoAllocsBefore is Tx.Do GET's allocations before the engine split (a2b9883: 2.0).
const txDoAllocsBefore = 2
