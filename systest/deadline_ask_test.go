package systest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redline-go/redline"
	"github.com/redline-go/redline/hashslot"
	"github.com/redline-go/redline/redistest"
)

// An ASK that lands at the deadline must not be followed after it: when the waiter's
// timer fired while the ASK was already there, the old waiter had spent its one tick
// and the ASKING attempt waited for the (slow) target with no deadline, returning
// success long after it (a 556ms call with a 100ms deadline, 24-77 of 3,000 calls).
// Here the slot's source answers after ~100ms (the deadline) and its target after
// 400ms: every call must end by its deadline (+50ms for a loaded machine).
func TestAskAtDeadlineNotFollowedLate(t *testing.T) {
	cl := plain(t)
	ctx := t.Context()
	const tag = "{askdl}"
	slot := hashslot.Key(tag)
	topo, err := cl.Topology(ctx)
	if err != nil {
		t.Fatal(err)
	}
	src := topo.Owner(slot).Node
	dst := topo.OtherMaster(src)
	const timeout = 100 * time.Millisecond
	c := newTestClient(t, cl, redline.Options{CommandTimeout: timeout})
	m, err := cl.BeginMigration(ctx, slot, dst)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { // restore: the slot back with src, stable
		src.SetFault(redistest.Pass)
		dst.SetFault(redistest.Pass)
		ctx := context.Background() // t.Context() has ended by now; redistest bounds each wait
		if err := m.Finish(ctx); err != nil {
			t.Errorf("finish the migration of slot %d: %v", slot, err)
		} else if err := cl.MigrateSlot(ctx, slot, src); err != nil {
			t.Errorf("restore slot %d: %v", slot, err)
		}
	})
	for i := 0; ; i++ { // connects every primary before they slow down
		err := c.Do(ctx, "DBSIZE").Err()
		if err == nil {
			break
		}
		if i == 20 {
			t.Fatal(err)
		}
	}
	if err := src.SetFault(redistest.Slow(timeout - 2*time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	if err := dst.SetFault(redistest.Slow(400 * time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	var calls, over2ms, late, okLate, asks atomic.Int64
	var worst atomic.Int64
	var wg sync.WaitGroup
	for g := range 30 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 40 {
				start := time.Now()
				err := c.Do(context.Background(), "GET", fmt.Sprintf("%s:missing:%d:%d", tag, g, i)).Err()
				el := time.Since(start)
				calls.Add(1)
				if el > timeout+2*time.Millisecond {
					over2ms.Add(1)
				}
				if el > timeout+50*time.Millisecond {
					late.Add(1)
					if err == nil || errors.Is(err, redline.Nil) {
						okLate.Add(1)
					}
				}
				for {
					w := worst.Load()
					if int64(el) <= w || worst.CompareAndSwap(w, int64(el)) {
						break
					}
				}
			}
		}()
	}
	wg.Wait()
	asks.Store(int64(c.Stats().Ask))
	t.Logf("FIGURE TestAskAtDeadlineNotFollowedLate: %d calls (deadline %v, ASK from a source answering after ~%v, target after 400ms): %d ASKs followed, %d past deadline+2ms, %d past deadline+50ms (%d of them with success), longest %v",
		calls.Load(), timeout, timeout-2*time.Millisecond, asks.Load(), over2ms.Load(), late.Load(), okLate.Load(), time.Duration(worst.Load()).Round(time.Millisecond))
	if late.Load() > 0 {
		t.Errorf("%d of %d calls ended past deadline+50ms (%d with success)", late.Load(), calls.Load(), okLate.Load())
	}
}
