package systest

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redline-go/redline"
	"github.com/redline-go/redline/hashslot"
	"github.com/redline-go/redline/internal/testkit"
	"github.com/redline-go/redline/redistest"
)

// TestReliabilityResharding moves several slots holding thousands of keys from one
// master to the two others, key batch by key batch (as redis-cli --cluster reshard
// does), while goroutines increment and read those keys. Each key has one writer, so
// every read must see exactly the last acknowledged value. It asserts zero errors
// surfaced to the callers (the client follows ASK during the moves and MOVED after),
// no stale or lost value, every key intact afterwards, and no call past its deadline.
func TestReliabilityResharding(t *testing.T) {
	testkit.Heavy(t)
	cl := redistest.Run(t, redistest.Config{Masters: 3})
	const timeout = time.Second
	c := newTestClient(t, cl, redline.Options{CommandTimeout: timeout})
	ctx := t.Context()
	topo, err := cl.Topology(ctx)
	if err != nil {
		t.Fatal(err)
	}
	src := cl.Node(0)
	nslots, perSlot := testkit.SoakOr(5, 20), testkit.SoakOr(600, 2000)
	var tags []string
	for i := 0; len(tags) < nslots; i++ {
		tag := fmt.Sprintf("{reshard%d}", i)
		if o := topo.Owner(hashslot.Key(tag)); o != nil && o.Node == src {
			tags = append(tags, tag)
		}
	}
	var keys []string
	for _, tag := range tags {
		for j := 0; j < perSlot; j += 100 {
			args := []any{"MSET"}
			for k := j; k < j+100; k++ {
				key := fmt.Sprintf("%s:%d", tag, k)
				keys = append(keys, key)
				args = append(args, key, 0)
			}
			if err := c.Do(ctx, args...).Err(); err != nil {
				t.Fatal(err)
			}
		}
	}

	const workers = 4
	expect := make([][]int64, workers) // expect[g][i]: the value of keys[g+i*workers]
	for g := range workers {
		expect[g] = make([]int64, (len(keys)-g+workers-1)/workers)
	}
	var (
		stats            testkit.CallStats
		errs, stale      atomic.Int64
		firstErr         atomic.Value
		stop             = make(chan struct{})
		wg               sync.WaitGroup
		incrs, readsDone atomic.Int64
	)
	for g := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 1_000_000; i++ {
				select {
				case <-stop:
					return
				default:
				}
				j := (i * 31) % len(expect[g])
				key := keys[g+j*workers]
				var got int64
				var err error
				if i%2 == 0 {
					err = stats.Timed(timeout, func(ctx context.Context) error {
						got, err = c.Do(ctx, "INCR", key).Int64()
						return err
					})
					if err == nil {
						expect[g][j]++
						incrs.Add(1)
						if got != expect[g][j] {
							stale.Add(1)
							firstErr.CompareAndSwap(nil, fmt.Sprintf("INCR %s = %d, want %d", key, got, expect[g][j]))
						}
					}
				} else {
					err = stats.Timed(timeout, func(ctx context.Context) error {
						got, err = c.Do(ctx, "GET", key).Int64()
						return err
					})
					if err == nil {
						readsDone.Add(1)
						if got != expect[g][j] {
							stale.Add(1)
							firstErr.CompareAndSwap(nil, fmt.Sprintf("GET %s = %d, want %d", key, got, expect[g][j]))
						}
					}
				}
				if err != nil {
					errs.Add(1)
					firstErr.CompareAndSwap(nil, err.Error())
				}
				time.Sleep(200 * time.Microsecond)
			}
		}()
	}
	defer func() {
		select {
		case <-stop:
		default:
			close(stop)
		}
		wg.Wait()
	}()

	start := time.Now()
	var moved int
	for i, tag := range tags {
		dst := cl.Node(1 + i%2)
		m, err := cl.BeginMigration(ctx, hashslot.Key(tag), dst)
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
			moved += n
			time.Sleep(10 * time.Millisecond) // traffic meets a half-moved slot
		}
		if err := m.Finish(ctx); err != nil {
			t.Fatal(err)
		}
	}
	took := time.Since(start)
	time.Sleep(200 * time.Millisecond) // traffic after the moves: MOVED, then the new owners
	close(stop)
	wg.Wait()

	stats.Check(t)
	if n := errs.Load(); n > 0 {
		t.Errorf("%d errors reached the callers during the resharding; first: %v", n, firstErr.Load())
	}
	if n := stale.Load(); n > 0 {
		t.Errorf("%d stale or lost values; first: %v", n, firstErr.Load())
	}
	for g := range workers {
		for j, want := range expect[g] {
			key := keys[g+j*workers]
			if got, err := c.Do(ctx, "GET", key).Int64(); err != nil || got != want {
				t.Fatalf("%s after the resharding: %d %v, want %d", key, got, err, want)
			}
		}
	}
	after, err := cl.Topology(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for i, tag := range tags {
		if o := after.Owner(hashslot.Key(tag)); o == nil || o.Node != cl.Node(1+i%2) {
			t.Errorf("slot of %s not moved", tag)
		}
	}
	if incrs.Load() < 1000 {
		t.Errorf("only %d writes during the resharding: too little traffic to mean anything", incrs.Load())
	}
	testkit.Figure(t, "resharding %d slots (%d keys, %d moved by MIGRATE) in %v under traffic: %d INCR + %d GET acknowledged, %d errors surfaced, %d stale values, %d redirects followed; %s (deadline %v)",
		len(tags), len(keys), moved, took.Round(time.Millisecond), incrs.Load(), readsDone.Load(), errs.Load(), stale.Load(), c.Stats().Moved+c.Stats().Ask, &stats, timeout)
}
