package systest

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redline-go/redline"
	"github.com/redline-go/redline/hashslot"
	"github.com/redline-go/redline/internal/testkit"
	"github.com/redline-go/redline/redistest"
)

// ack is one acknowledged write: a unique key and its value, when the server confirmed
// it, and whether a replica confirmed it too (WAIT).
type ack struct {
	key     string
	val     int
	at      time.Time
	durable bool
}

// ackLog collects acknowledged writes from many goroutines and keeps the recent ones
// for readers to check.
type ackLog struct {
	mu     sync.Mutex
	acks   []ack
	recent []ack // a ring of the last acks, for readers
}

func (l *ackLog) add(a ack) {
	l.mu.Lock()
	l.acks = append(l.acks, a)
	if len(l.recent) < 4096 {
		l.recent = append(l.recent, a)
	} else {
		l.recent[len(l.acks)%len(l.recent)] = a
	}
	l.mu.Unlock()
}

func (l *ackLog) pick() (ack, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.recent) == 0 {
		return ack{}, false
	}
	return l.recent[rand.IntN(len(l.recent))], true
}

// TestReliabilityFailoverUnderLoad kills one master (SIGKILL) and pauses another
// (SIGSTOP, resumed after its replica took over) while writers and readers run, on a
// cluster of 3 masters with one replica each (cluster-node-timeout 1s). Writers write
// unique keys; a share of the writes is confirmed by a replica (WATCH, SET, WAIT 1 on
// one connection). Afterwards every acknowledged write is read back. It asserts:
//   - no call returns later than its deadline (beyond the scheduling slack);
//   - no write a replica confirmed (WAIT) is lost; writes acknowledged only by the
//     master may be lost (asynchronous replication), but only those acknowledged just
//     before the fault, and they are counted and reported;
//   - no read returns a value other than the one written (never a mixed-up reply);
//   - writes to the failed shard succeed again within cluster-node-timeout + 3s of the
//     promotion, without any help from the test.
func TestReliabilityFailoverUnderLoad(t *testing.T) {
	testkit.Heavy(t)
	cl := redistest.Run(t, redistest.Config{Masters: 3, ReplicasPerMaster: 1, NodeTimeout: time.Second})
	const timeout = 500 * time.Millisecond
	var routed routeWatch
	c := newTestClient(t, cl, redline.Options{CommandTimeout: timeout, DialTimeout: timeout, RefreshMinInterval: 100 * time.Millisecond,
		Hooks: redline.Hooks{AfterCommand: routed.after}})
	rounds := []string{"kill", "pause"}
	if testkit.Soak {
		rounds = append(rounds, "kill", "pause", "kill", "pause")
	}
	for i, fault := range rounds {
		// The current master of shard i%3 (an earlier round may have failed it over).
		topo, err := cl.Topology(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		owner := topo.Owner((i%3)*(hashslot.Count/3) + 100)
		if owner == nil || owner.Node == nil {
			t.Fatalf("no owner for shard %d", i%3)
		}
		master := owner.Node
		if !t.Run(fmt.Sprintf("%s-%d", fault, i), func(t *testing.T) { failoverRound(t, cl, c, &routed, fault, master, timeout) }) {
			return
		}
	}
}

// failoverRound runs one fault on master under load and checks the outcome.
func failoverRound(t *testing.T, cl *redistest.Cluster, c *redline.Client, routed *routeWatch, fault string, master *redistest.Node, timeout time.Duration) {
	ctx := t.Context()
	if err := cl.WaitHealthy(t.Context()); err != nil {
		t.Fatal(err)
	}
	topo, err := cl.Topology(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if e := topo.ByID(master.ID()); e == nil || e.Role != "master" {
		t.Fatalf("%v is not a master", master)
	}
	replica := replicaOf(t, topo, master)
	round := fmt.Sprintf("fo%d", master.Index())
	probeKey := topo.KeyOn(t, master, round+"-probe")

	var (
		log     ackLog
		stats   testkit.CallStats
		wrong   atomic.Int64 // reads that returned another value than the one written
		missing atomic.Int64 // reads of an acknowledged key that found nothing
		reads   atomic.Int64
		stop    = make(chan struct{})
		wg      sync.WaitGroup
		p       probe
	)
	maxOps := testkit.SoakOr(20000, 200000)
	writer := func(g int, durable bool) {
		defer wg.Done()
		for i := 0; i < maxOps; i++ {
			select {
			case <-stop:
				return
			default:
			}
			key := fmt.Sprintf("%s:%d:%d", round, g, i)
			var err error
			if durable {
				var replicas int64
				err = stats.Timed(timeout, func(ctx context.Context) error {
					return c.Watch(ctx, func(tx *redline.Tx) error {
						if err := tx.Do(ctx, "SET", key, i).Err(); err != nil {
							return err
						}
						var err error
						replicas, err = tx.Do(ctx, "WAIT", 1, 100).Int64()
						return err
					}, key)
				})
				if err == nil && replicas < 1 {
					err = errors.New("not replicated within 100ms")
				}
				if err == nil {
					log.add(ack{key: key, val: i, at: time.Now(), durable: true})
				}
			} else {
				err = stats.Timed(timeout, func(ctx context.Context) error { return c.Do(ctx, "SET", key, i).Err() })
				if err == nil {
					log.add(ack{key: key, val: i, at: time.Now()})
				}
			}
			if err != nil {
				time.Sleep(5 * time.Millisecond) // no hot loop while a shard is down
			} else {
				time.Sleep(time.Millisecond)
			}
		}
	}
	reader := func() {
		defer wg.Done()
		for range maxOps {
			select {
			case <-stop:
				return
			case <-time.After(time.Millisecond):
			}
			a, ok := log.pick()
			if !ok {
				continue
			}
			var got int64
			err := stats.Timed(timeout, func(ctx context.Context) error {
				var err error
				got, err = c.Do(ctx, "GET", a.key).Int64()
				return err
			})
			reads.Add(1)
			switch {
			case errors.Is(err, redline.Nil):
				missing.Add(1)
			case err == nil && got != int64(a.val):
				wrong.Add(1)
				t.Errorf("GET %s = %d, want %d", a.key, got, a.val)
			}
		}
	}
	for g := range 4 {
		wg.Add(1)
		go writer(g, false)
	}
	wg.Add(3)
	go writer(100, true)
	go reader()
	go reader()
	wg.Add(1)
	go func() { defer wg.Done(); p.run(c, probeKey, timeout, stop, &stats) }()
	defer func() { // on an early failure too
		select {
		case <-stop:
		default:
			close(stop)
		}
		wg.Wait()
	}()

	time.Sleep(testkit.SoakOr(time.Second, 10*time.Second)) // load before the fault
	faultAt := time.Now()
	switch fault {
	case "kill":
		err = master.Kill()
	case "pause":
		err = master.Pause()
	}
	if err != nil {
		t.Fatal(err)
	}
	// When the client's own slot table names the new master: the first call on the
	// probe key's slot that the client sends there (the probe writes every 5ms).
	learned := routed.watch(hashslot.Key(probeKey), replica.Addr(), 30*time.Second)
	promotedAt, err := waitRole(replica, "master", 60*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	// Load goes on until writes to the failed shard have succeeded for a while.
	deadline := time.Now().Add(30 * time.Second)
	var recoveredAt time.Time
	for time.Now().Before(deadline) {
		if at, ok := p.recovered(faultAt); ok && time.Since(at) > time.Second && time.Since(promotedAt) > time.Second {
			recoveredAt = at
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	// Bring the old master back (it rejoins as a replica of the new one), still under load.
	restoreAt := time.Now()
	switch fault {
	case "kill":
		err = master.Restart(t.Context())
	case "pause":
		err = master.Resume()
	}
	if err != nil {
		t.Fatal(err)
	}
	if err := cl.WaitHealthy(t.Context()); err != nil {
		t.Fatal(err)
	}
	healthyAt := time.Now()
	time.Sleep(testkit.SoakOr(500*time.Millisecond, 5*time.Second)) // load on the healed cluster
	close(stop)
	wg.Wait()

	// Every acknowledged write, read back.
	var plain, durable, lostPlain, lostDurable, lostLate int
	var lostSpan [2]time.Duration // the lost writes' ack times relative to the fault
	for _, a := range log.acks {
		if a.durable {
			durable++
		} else {
			plain++
		}
		got, err := c.Do(t.Context(), "GET", a.key).Int64()
		if err == nil && got == int64(a.val) {
			continue
		}
		if err != nil && !errors.Is(err, redline.Nil) {
			t.Fatalf("reading back %s: %v", a.key, err)
		}
		if err == nil {
			t.Errorf("%s = %d, want %d", a.key, got, a.val)
			continue
		}
		rel := a.at.Sub(faultAt)
		if lostPlain+lostDurable == 0 || rel < lostSpan[0] {
			lostSpan[0] = rel
		}
		if lostPlain+lostDurable == 0 || rel > lostSpan[1] {
			lostSpan[1] = rel
		}
		switch {
		case a.durable:
			lostDurable++
		default:
			lostPlain++
		}
		// Asynchronous replication loses only what the master acknowledged in the last
		// moments before it stopped; a lost write acknowledged long before, or after the
		// fault, would be the client's doing.
		if rel < -2*time.Second || rel > 100*time.Millisecond {
			lostLate++
		}
	}
	stats.Check(t)
	if lostDurable > 0 {
		t.Errorf("%d writes confirmed by a replica (WAIT) were lost", lostDurable)
	}
	if lostLate > 0 {
		t.Errorf("%d lost writes were acknowledged outside the 2s before the fault (ack times %v..%v from it)", lostLate, lostSpan[0], lostSpan[1])
	}
	if wrong.Load() > 0 {
		t.Errorf("%d reads returned another value than the one written", wrong.Load())
	}
	if recoveredAt.IsZero() {
		t.Fatalf("writes to the failed shard did not recover within 30s of the fault")
	}
	learnedAt, ok := <-learned
	if !ok {
		t.Fatalf("the client's topology never named the new master")
	}
	// A stopped master is not waited out (ReplyTimeout): calls that time out on it ask
	// for a refresh, and a refresh installs what a majority of the nodes asked agree on.
	if d := learnedAt.Sub(promotedAt); d > time.Second {
		t.Errorf("the client learned the new master %v after the promotion, want within 1s", d)
	}
	if d := recoveredAt.Sub(promotedAt); d > cl.NodeTimeout()+3*time.Second {
		t.Errorf("writes recovered %v after the promotion", d)
	}
	if plain < 100 || durable < 10 {
		t.Errorf("too little load to mean anything: %d plain and %d confirmed writes", plain, durable)
	}
	testkit.Figure(t, "%s of a master under load: %d writes acknowledged (%d also by a replica via WAIT), %d lost (%d confirmed by WAIT), lost writes acknowledged %v..%v from the fault",
		fault, plain+durable, durable, lostPlain+lostDurable, lostDurable, lostSpan[0].Round(time.Millisecond), lostSpan[1].Round(time.Millisecond))
	testkit.Figure(t, "%s: fault → replica promoted %v; the client's slot table names it %v after the promotion; fault → writes to the shard succeed again %v (%v after the promotion); %s back → cluster healthy %v",
		fault, promotedAt.Sub(faultAt).Round(time.Millisecond), learnedAt.Sub(promotedAt).Round(time.Millisecond), recoveredAt.Sub(faultAt).Round(time.Millisecond),
		recoveredAt.Sub(promotedAt).Round(time.Millisecond), map[string]string{"kill": "restart", "pause": "resume"}[fault], healthyAt.Sub(restoreAt).Round(time.Millisecond))
	testkit.Figure(t, "%s: %s (deadline %v); %d reads of acknowledged keys, %d found nothing (lost or not yet replicated), %d wrong values",
		fault, &stats, timeout, reads.Load(), missing.Load(), wrong.Load())
}

// routeWatch is an AfterCommand hook that reports when a call on a slot is first
// answered by a given node: the moment the client's slot table routes the slot there.
type routeWatch struct {
	mu   sync.Mutex
	slot int
	addr string
	seen chan time.Time // nil: not watching
}

// after is the hook.
func (w *routeWatch) after(_ context.Context, end redline.CommandEnd) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.seen != nil && end.Slot == w.slot && end.Node == w.addr {
		w.seen <- time.Now()
		w.seen = nil
	}
}

// watch starts watching for a call on slot answered by addr and returns a channel
// that receives its time, or is closed without one when within passes first.
func (w *routeWatch) watch(slot int, addr string, within time.Duration) <-chan time.Time {
	seen, out := make(chan time.Time, 1), make(chan time.Time, 1)
	w.mu.Lock()
	w.slot, w.addr, w.seen = slot, addr, seen
	w.mu.Unlock()
	go func() {
		defer close(out)
		select {
		case at := <-seen:
			out <- at
		case <-time.After(within):
			w.mu.Lock()
			w.seen = nil
			w.mu.Unlock()
		}
	}()
	return out
}
