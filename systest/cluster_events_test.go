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

// TestLiveSlotMigration moves a slot while goroutines read and write its keys: the
// client follows ASK during the migration and MOVED after it; no error reaches the
// callers and every key is readable afterwards.
func TestLiveSlotMigration(t *testing.T) {
	cl := plain(t)
	c := newTestClient(t, cl, redline.Options{})
	ctx := t.Context()
	const tag = "{live}"
	slot := hashslot.Key(tag)
	const keys = 300
	for i := range keys {
		if err := c.Do(ctx, "SET", fmt.Sprintf("%s:%d", tag, i), i).Err(); err != nil {
			t.Fatal(err)
		}
	}
	topo, err := cl.Topology(ctx)
	if err != nil {
		t.Fatal(err)
	}
	src := topo.Owner(slot).Node
	dst := topo.OtherMaster(src)

	stop := make(chan struct{})
	var ops, failures atomic.Int64
	var firstErr atomic.Value
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				k := fmt.Sprintf("%s:%d", tag, (i*7+g)%keys)
				var err error
				if i%3 == 0 {
					err = c.Do(ctx, "SET", k, (i*7+g)%keys).Err()
				} else {
					_, err = c.Do(ctx, "GET", k).Int64()
				}
				ops.Add(1)
				if err != nil {
					failures.Add(1)
					firstErr.CompareAndSwap(nil, err)
				}
			}
		}()
	}
	m, err := cl.BeginMigration(ctx, slot, dst)
	if err != nil {
		t.Fatal(err)
	}
	for {
		n, err := m.MoveKeys(ctx, 20)
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			break
		}
		time.Sleep(5 * time.Millisecond) // let traffic meet a half-moved slot
	}
	if err := m.Finish(ctx); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond) // traffic after the move: MOVED
	close(stop)
	wg.Wait()
	if f := failures.Load(); f > 0 {
		t.Fatalf("%d of %d calls failed during the migration; first: %v", f, ops.Load(), firstErr.Load())
	}
	if st := c.Stats(); st.Moved+st.Ask == 0 {
		t.Error("no redirect was followed: the test did not exercise MOVED/ASK")
	}
	for i := range keys {
		if n, err := c.Do(ctx, "GET", fmt.Sprintf("%s:%d", tag, i)).Int64(); err != nil || n != int64(i) {
			t.Fatalf("key %d after migration: %d %v", i, n, err)
		}
	}
	st := c.Stats()
	t.Logf("%d calls during the migration, %d MOVED and %d ASK followed", ops.Load(), st.Moved, st.Ask)
	if err := cl.MigrateSlot(ctx, slot, src); err != nil { // restore
		t.Fatal(err)
	}
}

// TestFailover kills a master while a bounded write loop runs: no call exceeds its
// deadline; writes succeed again soon after the replica is promoted; the client's
// topology shows the new master.
func TestFailover(t *testing.T) {
	cl := plain(t)
	const timeout = 300 * time.Millisecond
	master, replica := cl.Node(2), cl.Node(5)
	lo, _ := 2*hashslot.Count/3, 0
	key := ""
	for i := 0; ; i++ { // a key on the master we kill
		key = fmt.Sprintf("fo:%d", i)
		if s := hashslot.Key(key); s >= lo {
			break
		}
	}
	var last atomic.Pointer[redline.CommandEnd] // the last call on key's slot
	c := newTestClient(t, cl, redline.Options{CommandTimeout: timeout, DialTimeout: timeout, RefreshMinInterval: 200 * time.Millisecond,
		Hooks: redline.Hooks{AfterCommand: func(_ context.Context, end redline.CommandEnd) {
			if end.Slot == hashslot.Key(key) {
				last.Store(&end)
			}
		}}})
	ctx := t.Context()
	if err := c.Do(ctx, "SET", key, 0).Err(); err != nil {
		t.Fatal(err)
	}
	killed := time.Now()
	if err := master.Kill(); err != nil {
		t.Fatal(err)
	}
	promotedCh := make(chan time.Time, 1)
	go func() { // when the replica says it is master (polled on its real port)
		for time.Since(killed) < 60*time.Second {
			if role, err := replica.Role(t.Context()); err == nil && role == "master" {
				promotedCh <- time.Now()
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
		close(promotedCh)
	}()
	t.Cleanup(func() { // restore: restart, then make it master again
		ctx := context.Background() // ctx has ended by now; redistest bounds each wait
		if err := master.Restart(ctx); err != nil {
			t.Errorf("restart: %v", err)
			return
		}
		if err := cl.WaitHealthy(ctx); err != nil {
			t.Errorf("healthy: %v", err)
			return
		}
		if err := cl.Failover(ctx, master, redistest.FailoverDefault); err != nil {
			t.Errorf("fail back: %v", err)
		}
		_ = ctx
	})
	var recovered time.Time
	var maxOver time.Duration
	var calls, failed int
	var lastErr error
	for i := 0; time.Since(killed) < 30*time.Second; i++ {
		start := time.Now()
		err := c.Do(context.Background(), "SET", key, i).Err() // the client's CommandTimeout bounds it
		el := time.Since(start)
		calls++
		if over := el - timeout; over > maxOver {
			maxOver = over
		}
		if err != nil {
			failed++
			lastErr = err
			recovered = time.Time{}
			var ne *redline.NodeError
			if !errors.As(err, &ne) && !errors.Is(err, context.DeadlineExceeded) {
				var re *redline.RedisError
				if !errors.As(err, &re) {
					t.Fatalf("failure without a node or server cause: %v", err)
				}
			}
			time.Sleep(10 * time.Millisecond)
			continue
		}
		if recovered.IsZero() {
			recovered = time.Now()
		}
		if time.Since(recovered) > time.Second {
			break // writes have been succeeding for a second
		}
	}
	if recovered.IsZero() {
		t.Fatalf("writes never recovered after the failover (%d calls, %d failed; the last: %v)", calls, failed, lastErr)
	}
	if maxOver > 50*time.Millisecond {
		t.Errorf("a call overshot its %v deadline by %v", timeout, maxOver)
	}
	promoted, ok := <-promotedCh
	if !ok {
		t.Fatal("the replica never became master")
	}
	t.Logf("kill → replica promoted %v → writes succeed again %v later (%d calls, %d failed, max overshoot %v)",
		promoted.Sub(killed).Round(time.Millisecond), recovered.Sub(promoted).Round(time.Millisecond), calls, failed, maxOver)
	if after := recovered.Sub(promoted); after > cl.NodeTimeout()+time.Second {
		t.Errorf("writes recovered %v after the promotion, want within cluster-node-timeout + 1s", after)
	}
	// The client's topology names the new master: a call on key goes straight to it.
	if err := c.Do(ctx, "GET", key).Err(); err != nil && err != redline.Nil {
		t.Fatalf("GET after the failover: %v", err)
	}
	if e := last.Load(); e == nil || e.Node != replica.Addr() || e.Redirects != 0 {
		t.Errorf("client topology: a call on the key's slot went to %+v, want straight to the promoted replica %s", e, replica.Addr())
	}
}
