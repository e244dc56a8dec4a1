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
	"github.com/redline-go/redline/internal/testkit"
	"github.com/redline-go/redline/redistest"
)

// sentinelRound is one failover of TestReliabilitySentinelFailover: what happens to
// the primary ("kill": SIGKILL, "stop": SIGSTOP) and to Sentinel i just before ("down":
// SIGKILL, "paused": SIGSTOP, "stale": its proxy answers the old primary and drops
// +switch-master, redistest.StaleMaster; "": nothing).
type sentinelRound struct {
	primary  string
	sentinel string
	i        int
}

func (r sentinelRound) String() string {
	if r.sentinel == "" {
		return r.primary
	}
	return fmt.Sprintf("%s+sentinel%d-%s", r.primary, r.i, r.sentinel)
}

// TestReliabilitySentinelFailover fails the primary of a Sentinel set (a primary, 2
// replicas, 3 Sentinels, down-after 1s) over while writers and readers with deadlines
// run through a client that found it through the Sentinels, with a Sentinel down,
// paused or answering a stale primary at the same time. It asserts, per round:
//   - no call returns later than its deadline + 2ms beyond the process's own timer
//     delay (a plain timer armed for the same deadline, testkit.CallStats.AgainstTimer)
//     and the scheduling stall the canary saw around it (without the race detector;
//     with it, DeadlineSlack); the FIGURE line gives the count past deadline + 2ms,
//     the count past it beyond the plain timer, and the largest overshoots;
//   - writes succeed again within 1s (+ testkit.Slack) of the promotion — the
//     replica answering ROLE master — with no help from the test;
//   - no write a replica confirmed (WAIT 1 on the write's own connection) is lost, and
//     no read returns another value than the one written;
//   - with a Sentinel answering a stale primary, a new client still connects to the
//     promoted one;
//
// and, at the end, that the client left no goroutine behind. `make test` runs two
// rounds (SIGKILL with a Sentinel down, SIGSTOP with a stale Sentinel); `make soak`
// eight, with longer load. REDLINE_LATEDEBUG=1 logs what each call more than 1ms late
// was doing (latecall_test.go); REDLINE_LATEPROF=file profiles the process's CPU
// during each failover.
func TestReliabilitySentinelFailover(t *testing.T) {
	testkit.Alone(t)
	s := redistest.RunSentinelSet(t, redistest.SentinelConfig{})
	redistest.NoClientGoroutineLeak(t) // registered before the client's Close: checked after it
	const timeout = 500 * time.Millisecond
	c, err := redline.NewClient(t.Context(), redline.Options{
		Sentinel:       redline.SentinelOptions{Addrs: s.SentinelAddrs(), MasterName: s.MasterName()},
		CommandTimeout: timeout,
		DialTimeout:    timeout,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	rounds := []sentinelRound{{"kill", "down", 0}, {"stop", "stale", 1}}
	if testkit.Soak {
		rounds = append(rounds, sentinelRound{"kill", "", 0}, sentinelRound{"stop", "", 0},
			sentinelRound{"kill", "paused", 2}, sentinelRound{"stop", "down", 1},
			sentinelRound{"kill", "stale", 2}, sentinelRound{"stop", "paused", 0})
	}
	for n, r := range rounds {
		if !t.Run(fmt.Sprintf("%d-%v", n, r), func(t *testing.T) { sentinelFailoverRound(t, s, c, r, n, timeout) }) {
			return
		}
	}
}

// sentinelLoad is the writers and readers of one round and what they saw.
type sentinelLoad struct {
	c       *redline.Client
	timeout time.Duration
	prefix  string
	stats   testkit.CallStats
	probe   *lateProbe // REDLINE_LATEDEBUG: what the late calls waited on
	log     ackLog
	wrong   atomic.Int64
	reads   atomic.Int64
	stop    chan struct{}
	wg      sync.WaitGroup

	mu      sync.Mutex
	faultAt time.Time // zero until the primary's fault
	firstOK time.Time // the end of the first write that began after faultAt and succeeded
}

// start runs 3 writers of plain SETs, one writer confirming each write on a replica
// (SET then WAIT 1 on one connection: Watch's) and 2 readers of acknowledged keys.
func (l *sentinelLoad) start() {
	l.stop = make(chan struct{})
	maxOps := testkit.SoakOr(50000, 500000)
	for g := range 4 {
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			for i := range maxOps {
				select {
				case <-l.stop:
					return
				default:
				}
				key := fmt.Sprintf("%s:%d:%d", l.prefix, g, i)
				start := time.Now()
				durable := g == 3
				var err error
				if durable {
					var replicas int64
					err = l.probe.timed(&l.stats, "Watch SET WAIT "+key, l.timeout, func(ctx context.Context) error {
						return l.c.Watch(ctx, func(tx *redline.Tx) error {
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
				} else {
					err = l.probe.timed(&l.stats, "SET "+key, l.timeout, func(ctx context.Context) error { return l.c.Do(ctx, "SET", key, i).Err() })
				}
				if err != nil {
					time.Sleep(2 * time.Millisecond) // no hot loop on fast failures
					continue
				}
				now := time.Now()
				l.log.add(ack{key: key, val: i, at: now, durable: durable})
				l.mu.Lock()
				if !l.faultAt.IsZero() && start.After(l.faultAt) && l.firstOK.IsZero() {
					l.firstOK = now
				}
				l.mu.Unlock()
				time.Sleep(time.Millisecond)
			}
		}()
	}
	for range 2 {
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			for range maxOps {
				select {
				case <-l.stop:
					return
				case <-time.After(time.Millisecond):
				}
				a, ok := l.log.pick()
				if !ok {
					continue
				}
				var got int64
				err := l.probe.timed(&l.stats, "GET "+a.key, l.timeout, func(ctx context.Context) error {
					var err error
					got, err = l.c.Do(ctx, "GET", a.key).Int64()
					return err
				})
				l.reads.Add(1)
				if err == nil && got != int64(a.val) {
					l.wrong.Add(1)
				}
			}
		}()
	}
}

// end stops the load and waits for it (safe to call twice).
func (l *sentinelLoad) end() {
	select {
	case <-l.stop:
	default:
		close(l.stop)
	}
	l.wg.Wait()
}

// recovered returns the end of the first successful write begun after the fault.
func (l *sentinelLoad) recovered() time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.firstOK
}

// watchPromotion polls, every 5ms until within has passed or ctx ends, every data node
// but old (on its own port) until one says it is a master, and every running Sentinel
// (directly, around its proxy) until one names a primary other than old. It sends when
// each happened (a zero time: never) once both have, or at the end.
func watchPromotion(ctx context.Context, s *redistest.SentinelSet, old *redistest.Node, within time.Duration) <-chan promotion {
	out := make(chan promotion, 1)
	go func() {
		var p promotion
		defer func() { out <- p }()
		end := time.Now().Add(within)
		for time.Now().Before(end) && ctx.Err() == nil && (p.at.IsZero() || p.named.IsZero()) {
			rctx, cancel := context.WithTimeout(ctx, time.Second)
			for _, n := range s.Nodes() {
				if p.at.IsZero() && n != old && n.Running() && !n.Paused() {
					if role, err := n.Role(rctx); err == nil && role == "master" {
						p.node, p.at = n, time.Now()
					}
				}
			}
			for i, sn := range s.Sentinels() {
				if p.named.IsZero() && sn.Running() && !sn.Paused() {
					if a, err := s.SentinelView(rctx, i); err == nil && a != old.Addr() {
						p.named = time.Now()
					}
				}
			}
			cancel()
			time.Sleep(5 * time.Millisecond)
		}
	}()
	return out
}

// promotion is when a replica became the primary (its ROLE) and when a Sentinel first
// named it.
type promotion struct {
	node  *redistest.Node
	at    time.Time
	named time.Time
}

// sentinelFailoverRound runs one round under load and checks it.
func sentinelFailoverRound(t *testing.T, s *redistest.SentinelSet, c *redline.Client, r sentinelRound, n int, timeout time.Duration) {
	ctx := t.Context()
	if err := s.WaitHealthy(ctx); err != nil {
		t.Fatal(err)
	}
	old, err := s.Primary(ctx)
	if err != nil {
		t.Fatal(err)
	}
	l := &sentinelLoad{c: c, timeout: timeout, prefix: fmt.Sprintf("sen%d", n)}
	l.stats.AgainstTimer = true
	if lateDebug {
		l.probe = &lateProbe{}
		defer l.probe.report(t)
	}
	l.start()
	defer l.end() // on an early failure too
	// Load before the faults.
	time.Sleep(testkit.SoakOr(time.Second, 10*time.Second))

	sn := s.Sentinel(r.i)
	undoSentinel := func() error { return nil }
	switch r.sentinel {
	case "down":
		err = sn.Kill()
		undoSentinel = func() error { return sn.Restart(ctx) }
	case "paused":
		err = sn.Pause()
		undoSentinel = sn.Resume
	case "stale":
		err = sn.SetFault(redistest.StaleMaster(old.Addr()))
		undoSentinel = func() error { return sn.SetFault(redistest.Pass) }
	}
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond) // the client meets the Sentinel's fault first
	promoted := watchPromotion(ctx, s, old, 60*time.Second)
	stopProfile := lateProfile(t, n)
	defer stopProfile()
	faultAt := time.Now()
	undoPrimary := func() error { return old.Restart(ctx) }
	if r.primary == "stop" {
		err = old.Pause()
		undoPrimary = old.Resume
	} else {
		err = old.Kill()
	}
	if err != nil {
		t.Fatal(err)
	}
	// Writes count as resumed from the first one begun once the fault is in place: one
	// begun before may still have reached the old primary.
	l.mu.Lock()
	l.faultAt = time.Now()
	l.mu.Unlock()
	p := <-promoted
	if p.node == nil || p.named.IsZero() {
		t.Fatalf("no replica was promoted and named by a Sentinel within 60s (promoted %v at %v, named at %v)", p.node, p.at, p.named)
	}
	// Load goes on until writes have succeeded for a while after the promotion.
	settle := testkit.SoakOr(time.Second, 5*time.Second)
	for end := time.Now().Add(30 * time.Second); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
		if ok := l.recovered(); !ok.IsZero() && time.Since(ok) > settle && time.Since(p.named) > settle {
			break
		}
	}
	recoveredAt := l.recovered()
	stopProfile()
	if recoveredAt.IsZero() {
		t.Fatalf("writes did not resume within 30s of the promotion of %v", p.node)
	}
	if got := c.PrimaryAddrs(); len(got) != 1 || got[0] != p.node.Addr() {
		t.Errorf("the client's primary is %v, want %v", got, p.node)
	}
	// A new client, with the faulty Sentinel still faulty, finds the new primary.
	var connect time.Duration
	if r.sentinel != "" {
		start := time.Now()
		nc, err := redline.NewClient(ctx, redline.Options{
			Sentinel:       redline.SentinelOptions{Addrs: s.SentinelAddrs(), MasterName: s.MasterName()},
			CommandTimeout: timeout,
			DialTimeout:    timeout,
		})
		connect = time.Since(start)
		if err != nil {
			t.Errorf("a new client with Sentinel %d %s: %v", r.i, r.sentinel, err)
		} else {
			if got := nc.PrimaryAddrs(); len(got) != 1 || got[0] != p.node.Addr() {
				t.Errorf("a new client with Sentinel %d %s found the primary at %v, want %v", r.i, r.sentinel, got, p.node)
			}
			nc.Close()
		}
		if connect > 2*timeout+testkit.Slack() {
			t.Errorf("a new client with Sentinel %d %s took %v to connect", r.i, r.sentinel, connect)
		}
	}

	// Everything back, under load: the Sentinel, then the old primary (a replica of the
	// new one once the Sentinels reconfigure it).
	if err := errors.Join(undoSentinel(), undoPrimary()); err != nil {
		t.Fatal(err)
	}
	if err := s.WaitHealthy(ctx); err != nil {
		t.Fatal(err)
	}
	time.Sleep(testkit.SoakOr(300*time.Millisecond, 5*time.Second)) // load on the healed set
	l.end()

	lostPlain, lostDurable, plain, durable := readBackAcks(t, c, l.log.acks)
	l.stats.Check(t)
	if lostDurable > 0 {
		t.Errorf("%d of %d writes confirmed by a replica (WAIT 1) were lost", lostDurable, durable)
	}
	if w := l.wrong.Load(); w > 0 {
		t.Errorf("%d reads returned another value than the one written", w)
	}
	// "After the promotion" counts from the replica's own ROLE change (the client
	// follows the failover's leader's events and polls the chosen replica's ROLE; the
	// Sentinels name it up to a second later). With the primary stopped, the writes
	// already sent to it end at their 500ms deadline (MayHaveExecuted, never re-sent), so
	// a writer's next write may start up to that long after the switch: 1s leaves
	// about 450ms for a loaded machine (testkit.Slack more under the race detector).
	gap := max(0, recoveredAt.Sub(p.at))
	if gap > time.Second+testkit.Slack() {
		t.Errorf("writes resumed %v after the promotion (the replica's ROLE said master; %v after a Sentinel named it), want within 1s",
			gap, recoveredAt.Sub(p.named))
	}
	if plain < 100 || durable < 10 {
		t.Errorf("too little load to mean anything: %d plain and %d confirmed writes", plain, durable)
	}
	testkit.Figure(t, "%v under load: fault → %v promoted (ROLE) %v, named by a Sentinel %v; writes resumed %v after its ROLE changed (%v after it was named); %d writes acknowledged (%d confirmed by WAIT 1), %d lost (%d confirmed); %d reads, 0 wrong; new client with the faulty Sentinel %v",
		r, p.node, p.at.Sub(faultAt).Round(time.Millisecond), p.named.Sub(faultAt).Round(time.Millisecond), gap.Round(time.Millisecond), recoveredAt.Sub(p.named).Round(time.Millisecond), plain+durable, durable, lostPlain+lostDurable, lostDurable, l.reads.Load(), connect.Round(time.Millisecond))
	testkit.Figure(t, "%v: %s", r, &l.stats)
}

// readBackAcks reads every acknowledged write back through c (in batches, one
// DoMulti each) and counts the writes lost, plain and confirmed by a replica; a value
// other than the one written fails t.
func readBackAcks(t *testing.T, c *redline.Client, acks []ack) (lostPlain, lostDurable, plain, durable int) {
	t.Helper()
	for len(acks) > 0 {
		batch := acks[:min(len(acks), 500)]
		acks = acks[len(batch):]
		cmds := make([]redline.Command, len(batch))
		for i, a := range batch {
			cmds[i] = redline.Cmd("GET", a.key)
		}
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		res := c.DoMulti(ctx, cmds...)
		cancel()
		for i, a := range batch {
			if a.durable {
				durable++
			} else {
				plain++
			}
			got, err := res[i].Int64()
			switch {
			case err == nil && got == int64(a.val):
			case errors.Is(err, redline.Nil) && a.durable:
				lostDurable++
			case errors.Is(err, redline.Nil):
				lostPlain++
			case err == nil:
				t.Errorf("%s = %d, want %d", a.key, got, a.val)
			default:
				t.Fatalf("reading back %s: %v", a.key, err)
			}
		}
	}
	return
}
