package systest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redline-go/redline"
	"github.com/redline-go/redline/hashslot"
	"github.com/redline-go/redline/internal/testkit"
	"github.com/redline-go/redline/redistest"
)

// TestReliabilityBlockingPopLosesNothing: a BLPOP whose server-side timeout is longer
// than the caller's deadline, while the server stalls for 50ms right at that deadline
// (DEBUG SLEEP) and an element is pushed just before it. If the server still had the
// BLPOP waiting then, it would hand it the element when it wakes, after the caller had
// left: the element would be lost. The client ends the wait on the server shortly
// before the deadline (CLIENT UNBLOCK), so the element stays in the list, and the
// caller gets a deadline error that says nothing was taken (SafeToRetry). Every pushed
// element is either returned to a caller or still in the list.
func TestReliabilityBlockingPopLosesNothing(t *testing.T) {
	testkit.Heavy(t)
	cl := redistest.Run(t, redistest.Config{Masters: 1, NoProxy: true})
	c := newTestClient(t, cl, redline.Options{})
	pusher := newTestClient(t, cl, redline.Options{}) // its own connection: not queued behind the stall's
	srv := cl.Node(0)
	ctx := t.Context()
	const budget = 400 * time.Millisecond
	trials := testkit.SoakOr(10, 50)
	if err := pusher.Do(ctx, "PING").Err(); err != nil { // connected before the first trial
		t.Fatal(err)
	}
	var popped, left, pushed, unblocked int
	for i := range trials {
		key := fmt.Sprintf("blpop:%d", i)
		start := time.Now()
		dl := start.Add(budget)
		var wg sync.WaitGroup
		wg.Add(1)
		go func() { // the stall and the push, right at the caller's deadline
			defer wg.Done()
			time.Sleep(time.Until(dl.Add(-6 * time.Millisecond)))
			go srv.Do(ctx, "DEBUG", "SLEEP", "0.05")
			time.Sleep(3 * time.Millisecond)
			if err := pusher.Do(ctx, "RPUSH", key, "e").Err(); err != nil {
				t.Error(err)
			}
		}()
		cctx, cancel := context.WithDeadline(ctx, dl)
		vals, err := c.Do(cctx, "BLPOP", key, 5).Strings()
		el := time.Since(start)
		cancel()
		wg.Wait()
		pushed++
		switch {
		case err == nil && len(vals) == 2:
			popped++
		case errors.Is(err, context.DeadlineExceeded):
			if redline.SafeToRetry(err) {
				unblocked++
			}
		default:
			t.Fatalf("trial %d: %v %v", i, vals, err)
		}
		if el > budget+testkit.DeadlineSlack {
			t.Errorf("trial %d: returned %v after its start, deadline %v", i, el, budget)
		}
		// Wait for the server to wake, then count what is left.
		n, err := c.Do(t.Context(), "LLEN", key).Int64()
		if err != nil {
			t.Fatal(err)
		}
		left += int(n)
	}
	if lost := pushed - popped - left; lost != 0 {
		t.Errorf("%d of %d elements lost: pushed at the deadline, taken by a BLPOP whose caller had left", lost, pushed)
	}
	testkit.Figure(t, "BLPOP cut by its deadline while the server stalls at that moment, %d trials: %d elements returned, %d left in the list, %d lost; %d calls ended on the server before the deadline (SafeToRetry)",
		trials, popped, left, pushed-popped-left, unblocked)
}

// TestReliabilityBlockingAskDedicated: a BLPOP on a slot under migration, whose key is
// not on the source (which answers ASK), runs with ASKING on a dedicated connection of
// the target: other calls to the target are not held up behind it, and an element
// pushed meanwhile reaches it.
func TestReliabilityBlockingAskDedicated(t *testing.T) {
	testkit.Heavy(t)
	cl := redistest.Run(t, redistest.Config{Masters: 2, NoProxy: true})
	c := newTestClient(t, cl, redline.Options{ReplyTimeout: 500 * time.Millisecond, ClientName: t.Name()})
	pusher := newTestClient(t, cl, redline.Options{})
	ctx := t.Context()
	src, dst := cl.Node(0), cl.Node(1)
	key := cl.KeyOn(t, src, "ask:list")
	other := cl.KeyOn(t, dst, "ask:other")
	if err := c.Do(ctx, "SET", other, "v").Err(); err != nil { // the shared connection to the target is up
		t.Fatal(err)
	}
	m, err := cl.BeginMigration(ctx, hashslot.Key(key), dst)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { // t.Context() has ended by now; Finish bounds its own wait
		if err := m.Finish(context.Background()); err != nil {
			t.Errorf("finish migration: %v", err)
		}
	})
	type answer struct {
		vals []string
		err  error
	}
	got := make(chan answer, 1)
	go func() {
		vals, err := c.Do(ctx, "BLPOP", key, 3).Strings()
		got <- answer{vals, err}
	}()
	cl.WaitBlocked(t, t.Name(), 5*time.Second) // the BLPOP waits on the target
	var worst time.Duration
	for range 5 {
		start := time.Now()
		if err := c.Do(ctx, "GET", other).Err(); err != nil {
			t.Fatalf("GET on the target while an ASK-redirected BLPOP waits there: %v", err)
		}
		worst = max(worst, time.Since(start))
	}
	if worst > 100*time.Millisecond {
		t.Errorf("GET on the target took %v while an ASK-redirected BLPOP waited there: it was queued behind it on the shared connection", worst)
	}
	if err := pusher.Do(ctx, "RPUSH", key, "e").Err(); err != nil {
		t.Fatal(err)
	}
	a := <-got
	if a.err != nil || len(a.vals) != 2 || a.vals[1] != "e" {
		t.Fatalf("ASK-redirected BLPOP: %v %v, want the element pushed while it waited", a.vals, a.err)
	}
	testkit.Figure(t, "BLPOP redirected by ASK waits on a dedicated connection of the target: GETs on the target meanwhile took at most %v", worst.Round(10*time.Microsecond))
}

// TestReliabilityBlockingUnblockLead: after slow commands on a node's shared
// connection (three DEBUG SLEEP 0.3), a BLPOP with a 1s deadline still gets an element
// pushed 250ms before that deadline: the wait is ended on the server a round trip (plus
// 20ms) before the deadline, a round trip that leaves out the server's execution time.
func TestReliabilityBlockingUnblockLead(t *testing.T) {
	testkit.Heavy(t)
	cl := redistest.Run(t, redistest.Config{Masters: 1, NoProxy: true})
	c := newTestClient(t, cl, redline.Options{})
	pusher := newTestClient(t, cl, redline.Options{})
	ctx := t.Context()
	for range 3 { // one master: they run on its shared connection, as the BLPOP's first try does
		if err := c.Do(ctx, "DEBUG", "SLEEP", "0.3").Err(); err != nil {
			t.Fatal(err)
		}
	}
	latency := func() time.Duration { // the node's moving average round trip, per Stats
		for _, ns := range c.Stats().Nodes {
			if ns.Addr == cl.Node(0).Addr() {
				return ns.Latency
			}
		}
		return 0
	}
	if err := pusher.Do(ctx, "PING").Err(); err != nil {
		t.Fatal(err)
	}
	const key = "lead:list"
	go func() {
		time.Sleep(750 * time.Millisecond)
		pusher.Do(ctx, "RPUSH", key, "e")
	}()
	cctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	vals, err := c.Do(cctx, "BLPOP", key, 5).Strings()
	if err != nil || len(vals) != 2 {
		t.Fatalf("BLPOP with a 1s deadline, element pushed at 750ms, after 3 slow commands (moving average latency %v): %v %v",
			latency(), vals, err)
	}
	testkit.Figure(t, "after 3 DEBUG SLEEP 0.3 the moving average latency is %v; a BLPOP with a 1s deadline got the element pushed at 750ms",
		latency().Round(time.Millisecond))
}

// TestReliabilityBlockingTinyDeadlines: BLPOPs with deadlines of 1–25ms, shorter than
// the unblock lead, while elements are pushed around those deadlines: the
// CLIENT UNBLOCK may reach the server before the BLPOP it is meant to end, and must not
// let the BLPOP start waiting after it. Every pushed element is returned or left, but
// for calls whose deadline is too short for any answer to come back in time (a few
// milliseconds on a loaded machine): those report that the command may have executed.
func TestReliabilityBlockingTinyDeadlines(t *testing.T) {
	testkit.Heavy(t)
	cl := redistest.Run(t, redistest.Config{Masters: 1, NoProxy: true})
	c := newTestClient(t, cl, redline.Options{})
	pusher := newTestClient(t, cl, redline.Options{})
	ctx := t.Context()
	if err := pusher.Do(ctx, "PING").Err(); err != nil {
		t.Fatal(err)
	}
	testkit.StartCanary()
	trials := testkit.SoakOr(300, 2000)
	var popped, left, gaveUp, late, lost, lostLonger int
	for i := range trials {
		key := fmt.Sprintf("tiny:%d", i)
		budget := time.Duration(1+i%25) * time.Millisecond
		// Around the deadline: when a waiting BLPOP would take it just before or after
		// its caller leaves. Every fourth one early in the wait, where it is returned.
		at := budget + time.Duration(i%5-3)*150*time.Microsecond
		if i%4 == 0 {
			at = budget / 3
		}
		done := make(chan struct{})
		start := time.Now()
		var acked time.Duration // when the RPUSH's reply came, from start
		go func() {
			defer close(done)
			time.Sleep(at)
			pusher.Do(ctx, "RPUSH", key, "e")
			acked = time.Since(start)
		}()
		cctx, cancel := context.WithTimeout(ctx, budget)
		vals, err := c.Do(cctx, "BLPOP", key, 5).Strings()
		el := time.Since(start)
		cancel()
		<-done
		switch {
		case err == nil && len(vals) == 2:
			popped++
		case errors.Is(err, context.DeadlineExceeded):
			if redline.MayHaveExecuted(err) {
				gaveUp++
			}
		default:
			t.Fatalf("trial %d: %v %v", i, vals, err)
		}
		if el > budget+testkit.DeadlineSlack {
			late++
		}
		time.Sleep(2 * time.Millisecond) // the server sees the end of an abandoned wait
		n, lerr := pusher.Do(ctx, "LLEN", key).Int64()
		if lerr != nil {
			t.Fatal(lerr)
		}
		left += int(n)
		if n == 0 && !(err == nil && len(vals) == 2) {
			lost++
			t.Logf("trial %d: deadline %v, pushed at %v (acknowledged at %v): the element is lost; the call said %v",
				i, budget, at, acked.Round(10*time.Microsecond), err)
			switch stalled := testkit.StallDuring(start, time.Now()); {
			case !redline.MayHaveExecuted(err):
				t.Errorf("trial %d: an element lost silently: the call said %v", i, err)
			case budget >= 8*time.Millisecond && stalled == 0 && acked <= budget-2*time.Millisecond:
				// The server answered the RPUSH, and with it the waiting BLPOP, 2ms or
				// more before the deadline (a push landing later, behind a busy
				// server, is lost to a deadline like any short one).
				lostLonger++
			case stalled > 0:
				t.Logf("trial %d: the process stalled for %v during the call", i, stalled)
			}
		}
	}
	if lostLonger != 0 {
		t.Errorf("%d of %d elements lost with deadlines of 8ms or more, pushed 2ms or more before them, with no process stall over 2ms during the call", lostLonger, trials)
	}
	if late > trials/50 {
		t.Errorf("%d of %d calls returned later than deadline+%v", late, trials, testkit.DeadlineSlack)
	}
	testkit.Figure(t, "BLPOP with 1–25ms deadlines, elements pushed around them, %d trials: %d returned, %d left, %d lost; %d gave up unconfirmed (MayHaveExecuted), %d past deadline+%v",
		trials, popped, left, lost, gaveUp, late, testkit.DeadlineSlack)
}

// TestReliabilityBlockingNodeDies: a BLPOP without timeout on a node that stops
// (SIGSTOP) is ended within about twice ReplyTimeout with an error saying the node
// stopped answering; on a node that is killed, at once, saying the connection was lost.
func TestReliabilityBlockingNodeDies(t *testing.T) {
	testkit.Heavy(t)
	cl := redistest.Run(t, redistest.Config{Masters: 1, NoProxy: true})
	const replyTimeout = 300 * time.Millisecond
	c := newTestClient(t, cl, redline.Options{ReplyTimeout: replyTimeout, CommandTimeout: 200 * time.Millisecond, ClientName: t.Name()})
	ctx := t.Context()
	srv := cl.Node(0)

	// Paused: the connections stay open, the kernel still answers for the process.
	errc := make(chan error, 1)
	go func() { errc <- c.Do(ctx, "BLPOP", "dies:list", 0).Err() }()
	time.Sleep(500 * time.Millisecond) // past CommandTimeout: still waiting
	select {
	case err := <-errc:
		t.Fatalf("BLPOP 0 ended before the fault, after CommandTimeout: %v", err)
	default:
	}
	if err := srv.Pause(); err != nil {
		t.Fatal(err)
	}
	paused := time.Now()
	var err error
	select {
	case err = <-errc:
	case <-time.After(10 * time.Second):
		srv.Resume()
		t.Fatal("BLPOP 0 on a stopped node: no answer 10s after the pause")
	}
	detect := time.Since(paused)
	if err := srv.Resume(); err != nil {
		t.Fatal(err)
	}
	if !isHealthErr(err) {
		t.Errorf("BLPOP 0 on a stopped node: %v, want an error saying the node stopped answering", err)
	}
	if limit := 3*replyTimeout + testkit.Slack(); detect > limit {
		t.Errorf("stopped node noticed after %v, want within %v", detect, limit)
	}
	t.Logf("paused: %v after %v", err, detect)

	// Killed: wait until the node answers again, then kill it under a wait.
	redistest.Eventually(t, 5*time.Second, func() bool { return c.Do(ctx, "PING").Err() == nil }, "node not back after the pause")
	go func() { errc <- c.Do(ctx, "BLPOP", "dies:list", 0).Err() }()
	cl.WaitBlocked(t, t.Name(), 5*time.Second) // the kill meets a waiting BLPOP
	if err := srv.Kill(); err != nil {
		t.Fatal(err)
	}
	killed := time.Now()
	select {
	case err = <-errc:
	case <-time.After(10 * time.Second):
		t.Fatal("BLPOP 0 on a killed node: no answer 10s after the kill")
	}
	detectKill := time.Since(killed)
	if err == nil || !strings.Contains(err.Error(), "connection lost while BLPOP waited") || !redline.MayHaveExecuted(err) {
		t.Errorf("BLPOP 0 on a killed node: %v, want an error saying the connection was lost", err)
	}
	if detectKill > 100*time.Millisecond+testkit.Slack() {
		t.Errorf("killed node noticed after %v", detectKill)
	}
	t.Logf("killed: %v after %v", err, detectKill)
	testkit.Figure(t, "BLPOP 0 (ReplyTimeout %v): a stopped node noticed after %v, a killed one after %v",
		replyTimeout, detect.Round(time.Millisecond), detectKill.Round(time.Millisecond))
}

// TestReliabilityBlockingWaitCountsWrites: WAIT, on dedicated connections, still
// counts the acknowledgements of the caller's writes: with a shard's replica stopped, a
// write there then WAIT 1 300 answers 0 (the lowest of the shards) after 300ms (not 1 at once, as a fresh connection's
// WAIT would, having written nothing); with the replica running, 1 at once.
func TestReliabilityBlockingWaitCountsWrites(t *testing.T) {
	testkit.Heavy(t)
	cl := redistest.Run(t, redistest.Config{Masters: 2, ReplicasPerMaster: 1, NodeTimeout: 5 * time.Second})
	c := newTestClient(t, cl, redline.Options{CommandTimeout: 100 * time.Millisecond})
	ctx := t.Context()
	topo, err := cl.Topology(ctx)
	if err != nil {
		t.Fatal(err)
	}
	replica := replicaOf(t, topo, cl.Node(0))
	key := topo.KeyOn(t, cl.Node(0), "wait")
	if err := c.Do(ctx, "SET", key, "1").Err(); err != nil {
		t.Fatal(err)
	}
	n, err := c.Do(ctx, "WAIT", 1, 2000).Int64()
	if err != nil || n != 1 {
		t.Fatalf("WAIT 1 2000 with the replica running: %d %v", n, err)
	}
	if err := replica.Pause(); err != nil {
		t.Fatal(err)
	}
	defer replica.Resume()
	if err := c.Do(ctx, "SET", key, "2").Err(); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	n, err = c.Do(ctx, "WAIT", 1, 300).Int64()
	el := time.Since(start)
	if err != nil || n != 0 || el < 290*time.Millisecond {
		t.Fatalf("WAIT 1 300 after a write, the replica stopped: %d %v after %v, want 0 after 300ms", n, err, el)
	}
	testkit.Figure(t, "WAIT 1 300 after a write with the replica stopped: %d after %v (CommandTimeout 100ms)", n, el.Round(time.Millisecond))
}
