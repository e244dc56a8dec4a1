// Package node is everything about one node of the cluster: its shared multiplexed
// connection, dialed lazily by a single-flight dialer in the background; its state
// (idle, connecting, up, down) with exponential backoff and jitter while down; fast
// failure with the last cause while down; a small pool of dedicated connections;
// stats; and one log record per state change.
package node

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redline-go/redline/internal/conn"
	"github.com/redline-go/redline/internal/rerr"
	"github.com/redline-go/redline/resp"
)

// Node is one Redis node as the client sees it. Safe for concurrent use.
type Node struct {
	addr string
	opts Options                    // defaults applied
	tls  atomic.Pointer[tls.Config] // this node's TLS configuration (nil: plain TCP); see SetTLS
	ctx  context.Context
	stop context.CancelFunc
	wg   sync.WaitGroup

	mu    sync.Mutex
	state State
	conn  *conn.Conn // the shared connection while up
	// live mirrors conn (set and cleared under mu): callers take a live connection
	// without the lock (Conn's fast path), so they never contend on it.
	live      atomic.Pointer[conn.Conn]
	installed uint64    // shared connections installed so far: conn's generation
	dial      *dialCall // the attempt in flight, if any
	lastErr   *rerr.NodeError
	downSince time.Time
	nextRetry time.Time
	failures  int // consecutive failed attempts
	timer     *time.Timer
	pending   []Event // state changes to emit once the lock is released

	// dedicated connections
	sem  chan struct{}
	idle []*conn.Conn

	dialing      attempt // the shared connection's attempt in flight (runDial)
	dials        atomic.Uint64
	dialFailures atomic.Uint64
	lastErrAt    atomic.Int64
	zone         atomic.Pointer[string] // the zone the last shared connection reported (zone.go)
}

// dialCall is one connection attempt that any number of callers can wait for.
type dialCall struct {
	done chan struct{} // closed when the attempt ends
	conn *conn.Conn
	err  *rerr.NodeError
}

// New returns a node for addr. Nothing is dialed until first use.
func New(addr string, o Options) *Node {
	o = o.withDefaults()
	ctx, stop := context.WithCancel(context.Background())
	n := &Node{addr: addr, opts: o, ctx: ctx, stop: stop, sem: make(chan struct{}, o.MaxDedicated)}
	n.tls.Store(o.Conn.TLS)
	return n
}

// TLS returns the TLS configuration of the node's next connection attempts (nil for
// plain TCP): Options.Conn.TLS, or what SetTLS set since.
func (n *Node) TLS() *tls.Config { return n.tls.Load() }

// SetTLS replaces the TLS configuration of the node's next connection attempts (the
// engine sets a node's server name once the topology tells its hostname). Connections
// already open are kept. A node without TLS (Options.Conn.TLS nil) stays without: a
// nil or plain node ignores it. cfg must not be modified afterwards.
func (n *Node) SetTLS(cfg *tls.Config) {
	if cfg == nil || n.opts.Conn.TLS == nil {
		return
	}
	n.tls.Store(cfg)
}

// Addr returns the node's address.
func (n *Node) Addr() string { return n.addr }

// State returns the node's state.
func (n *Node) State() State {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.state
}

// Conn returns the node's shared connection, dialing it if needed. A node known to
// be down fails at once with the cause of its last failure (a *rerr.NodeError with
// Down set). Otherwise the caller waits for the attempt in flight — shared with every
// other caller — until its context ends (a *rerr.DeadlineError naming what it waited
// for); the attempt goes on in the background under its own DialTimeout.
func (n *Node) Conn(w *conn.Waiter) (*conn.Conn, error) {
	if c := n.live.Load(); c != nil && c.Err() == nil {
		return c, nil
	}
	n.mu.Lock()
	if c := n.conn; c != nil {
		if c.Err() == nil {
			n.mu.Unlock()
			return c, nil
		}
		// It died and its OnClose has not run yet: never hand it out.
		n.lostLocked(c.Err())
	}
	if err := n.unusableLocked(); err != nil {
		n.mu.Unlock()
		return nil, err
	}
	d := n.dial
	if d == nil {
		if w.Done() { // a call past its deadline starts no attempt
			n.mu.Unlock()
			return nil, w.DeadlineErr(&rerr.NodeError{Addr: n.addr, Phase: rerr.PhaseDial, Err: errNotConnected})
		}
		d = n.startDialLocked()
	}
	last := n.lastErr
	n.mu.Unlock() // state changes are emitted by the dial, never on a caller's goroutine

	select {
	case <-d.done:
		if d.err != nil {
			if w.Err() != nil { // the caller's own deadline has passed too: say so
				return nil, w.DeadlineErr(d.err)
			}
			return nil, d.err
		}
		return d.conn, nil
	case <-w.Ctx().Done():
	case <-w.Expired():
	}
	return nil, w.DeadlineErr(n.dialing.err(n, last))
}

// errNotConnected is the cause for a call that reached an unconnected node after it
// had ended (deadline or cancellation).
var errNotConnected = errors.New("not connected, and the call had already ended")

// attempt follows one dial: the phase it is in and when it started, which a caller
// that leaves before it ends is told (Node.dialing for the shared connection's; each
// Dedicated and DialOwn caller follows its own).
type attempt struct {
	phase atomic.Value // rerr.Phase
	start atomic.Int64 // unix nanos
}

// track has o's dial report its phases to a and marks its start (now).
func (a *attempt) track(o *conn.Options) {
	a.start.Store(time.Now().UnixNano())
	prev := o.OnPhase
	o.OnPhase = func(p rerr.Phase) {
		a.phase.Store(p)
		if prev != nil {
			prev(p)
		}
	}
}

// err is what a caller that left while the attempt was in flight waited for: the
// phase it is in (PhaseDial when none was reported yet) and for how long, with the
// node's last failure when there was one.
func (a *attempt) err(n *Node, last *rerr.NodeError) *rerr.NodeError {
	phase, _ := a.phase.Load().(rerr.Phase)
	if phase == "" {
		phase = rerr.PhaseDial
	}
	err := rerr.ErrConnecting
	if start := a.start.Load(); start != 0 {
		err = fmt.Errorf("%w, no answer for %v", rerr.ErrConnecting, time.Since(time.Unix(0, start)).Round(time.Millisecond))
	}
	if last != nil {
		err = fmt.Errorf("%w; last failure: %s: %w", err, last.Phase, last.Err)
	}
	return &rerr.NodeError{Addr: n.addr, Phase: phase, Err: err}
}

// Do runs one command on the shared connection.
func (n *Node) Do(ctx context.Context, args ...any) (resp.Value, error) {
	w := conn.NewWaiter(ctx, time.Time{})
	return n.Exec(&w, args)
}

// Exec runs one command on the shared connection with a caller's Waiter.
func (n *Node) Exec(w *conn.Waiter, args []any) (resp.Value, error) {
	c, err := n.Conn(w)
	if err != nil {
		return resp.Value{}, err
	}
	return c.Exec(w, 0, args)
}

// Close closes the node's connections, stops its retries and waits for its background
// work (attempts in flight are canceled). Calls after Close fail with rerr.ErrClosed.
func (n *Node) Close() error {
	n.mu.Lock()
	if n.state == StateClosed {
		n.mu.Unlock()
		return nil
	}
	n.setStateLocked(StateClosed, nil)
	c := n.conn
	n.conn = nil
	n.live.Store(nil)
	idle := n.idle
	n.idle = nil
	if n.timer != nil {
		n.timer.Stop()
	}
	events := n.takeEventsLocked()
	n.mu.Unlock()
	n.emit(events)
	n.stop()
	if c != nil {
		c.Close()
	}
	for _, c := range idle {
		c.Close()
	}
	n.wg.Wait()
	return nil
}

// unusableLocked returns the error for a call that must not even try the node: it is
// closed, or known down (fast failure with the last cause); nil otherwise.
func (n *Node) unusableLocked() *rerr.NodeError {
	switch n.state {
	case StateClosed:
		return &rerr.NodeError{Addr: n.addr, Phase: rerr.PhaseDial, Err: rerr.ErrClosed}
	case StateDown:
		return n.fastFailLocked()
	}
	return nil
}

// fastFailLocked is the error for a call to a node known to be down.
func (n *Node) fastFailLocked() *rerr.NodeError {
	e := *n.lastErr
	e.MarkDown(n.downSince, n.nextRetry, time.Now())
	return &e
}

// startDialLocked starts a connection attempt in the background.
func (n *Node) startDialLocked() *dialCall {
	d := &dialCall{done: make(chan struct{})}
	n.dial = d
	if n.state == StateIdle {
		n.setStateLocked(StateConnecting, nil)
	}
	n.wg.Add(1)
	go n.runDial(d)
	return d
}

func (n *Node) connOptions() *conn.Options {
	o := n.opts.Conn
	o.Addr = n.addr
	o.TLS = n.tls.Load()
	return &o
}

// runDial makes one attempt and records its outcome.
func (n *Node) runDial(d *dialCall) {
	defer n.wg.Done()
	o := n.connOptions()
	o.OnClose = n.connClosed
	n.dialing.track(o)
	if n.opts.Shared != nil {
		n.opts.Shared(o)
	}
	ctx, cancel := context.WithTimeout(n.ctx, n.opts.DialTimeout)
	start := time.Now()
	c, err := conn.Dial(ctx, o)
	cancel()
	n.dials.Add(1)
	ne := asNodeError(n.addr, err)
	if n.opts.OnDial != nil {
		n.opts.OnDial(DialEvent{Addr: n.addr, Elapsed: time.Since(start), Err: nodeErrOrNil(ne), Zone: connZone(c)})
	}

	n.mu.Lock()
	n.dial = nil
	if n.state == StateClosed {
		n.mu.Unlock()
		if c != nil {
			c.Close()
		}
		d.err = &rerr.NodeError{Addr: n.addr, Phase: rerr.PhaseDial, Err: rerr.ErrClosed}
		close(d.done)
		return
	}
	if ne == nil && c.Err() != nil {
		// It died before it could be installed (its OnClose found it was not the
		// node's connection yet and left it): a failed attempt, retried with backoff,
		// since a server that drops every new connection must not be dialed in a loop.
		ne = asNodeError(n.addr, c.Err())
		if ne == nil || ne.Err == rerr.ErrClosed {
			ne = &rerr.NodeError{Addr: n.addr, Phase: rerr.PhaseRead, Err: errDiedBeforeUse}
		}
		c = nil
	}
	if ne != nil {
		n.failedLocked(ne)
		d.err = n.fastFailLocked()
		d.err.Down = false // this caller waited for the attempt: it is the failure itself
	} else {
		// Installed under the lock: if it dies from now on, its OnClose (which takes
		// the lock) finds it installed and replaces it.
		n.conn, d.conn = c, c
		n.live.Store(c)
		n.installed++
		n.learnZone(c)
		n.failures = 0
		n.setStateLocked(StateUp, nil)
	}
	events := n.takeEventsLocked()
	n.mu.Unlock()
	close(d.done)
	n.emit(events)
}

// errDiedBeforeUse is the cause when a new connection died before its first use
// without a cause of its own.
var errDiedBeforeUse = errors.New("connection closed right after it was established")

// failedLocked records a failure: the node goes down and a retry is scheduled.
func (n *Node) failedLocked(ne *rerr.NodeError) {
	n.dialFailures.Add(1)
	n.lastErrAt.Store(time.Now().UnixNano())
	n.lastErr = ne
	n.failures++
	if n.state != StateDown {
		n.downSince = time.Now()
	}
	delay := n.backoff(n.failures)
	n.nextRetry = time.Now().Add(delay)
	if n.timer != nil {
		n.timer.Stop()
	}
	n.timer = time.AfterFunc(delay, n.retry)
	n.setStateLocked(StateDown, ne)
}

// backoff returns the wait before retry number k (k ≥ 1): a random time in [d/2, d].
func (n *Node) backoff(k int) time.Duration {
	d := n.opts.BackoffBase
	for i := 1; i < k && d < n.opts.BackoffMax; i++ {
		d *= 2
	}
	d = min(d, n.opts.BackoffMax)
	return d/2 + rand.N(d/2+1)
}

// retry is the backoff timer's callback: a new attempt in the background.
func (n *Node) retry() {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.state != StateDown || n.dial != nil {
		return
	}
	n.startDialLocked()
}

// connClosed is the shared connection's OnClose: decide what the death means.
func (n *Node) connClosed(c *conn.Conn, cause error) {
	n.mu.Lock()
	if n.conn != c || n.state == StateClosed {
		n.mu.Unlock()
		return
	}
	n.lostLocked(cause)
	events := n.takeEventsLocked()
	n.mu.Unlock()
	n.emit(events)
}

// lostLocked handles the death of the installed connection: what it means for the
// node (down, or reconnecting at once).
func (n *Node) lostLocked(cause error) {
	n.conn = nil
	n.live.Store(nil)
	ne := asNodeError(n.addr, cause)
	if ne == nil {
		ne = &rerr.NodeError{Addr: n.addr, Phase: rerr.PhaseRead, Err: errors.New("connection closed")}
	}
	if rerr.IsTimeout(ne.Err) || conn.IsOverdue(ne) {
		// The node stopped answering: known bad. Fail fast and retry with backoff.
		n.failedLocked(ne)
	} else {
		// Closed or reset: most likely a restart or an idle timeout. Redial now;
		// callers wait for it within their deadlines.
		n.lastErr = ne
		n.lastErrAt.Store(time.Now().UnixNano())
		n.setStateLocked(StateConnecting, ne)
		if n.dial == nil {
			n.startDialLocked()
		}
	}
}

func asNodeError(addr string, err error) *rerr.NodeError {
	if err == nil {
		return nil
	}
	var ne *rerr.NodeError
	if errors.As(err, &ne) {
		return ne
	}
	return &rerr.NodeError{Addr: addr, Phase: rerr.PhaseDial, Err: err}
}

func nodeErrOrNil(ne *rerr.NodeError) error {
	if ne == nil {
		return nil
	}
	return ne
}

func (n *Node) setStateLocked(to State, cause *rerr.NodeError) {
	from := n.state
	if from == to && to != StateDown {
		return
	}
	n.state = to
	ev := Event{Addr: n.addr, From: from, To: to, Attempt: n.failures}
	if cause != nil {
		ev.Err = cause
	}
	if to == StateDown {
		ev.NextRetry = n.nextRetry
	}
	n.pending = append(n.pending, ev)
}

func (n *Node) takeEventsLocked() []Event {
	ev := n.pending
	n.pending = nil
	return ev
}

// emit logs and reports state changes: one record per change, never per command.
func (n *Node) emit(events []Event) {
	for _, ev := range events {
		n.log(ev)
		if n.opts.OnStateChange != nil {
			n.opts.OnStateChange(ev)
		}
	}
}

func (n *Node) log(ev Event) {
	l := n.opts.Logger
	if l == nil {
		return
	}
	switch {
	case ev.To == StateDown && ev.From == StateDown:
		l.Debug("redline: node still down", nodeAttrs(ev)...)
	case ev.To == StateDown:
		l.Warn("redline: node down", nodeAttrs(ev)...)
	case ev.To == StateUp && ev.From == StateDown:
		l.Info("redline: node recovered", "addr", ev.Addr)
	case ev.To == StateUp:
		l.Debug("redline: node connected", "addr", ev.Addr)
	case ev.To == StateConnecting && ev.Err != nil:
		l.Info("redline: connection lost, reconnecting", "addr", ev.Addr, "err", ev.Err.Error())
	case ev.To == StateClosed:
		l.Debug("redline: node closed", "addr", ev.Addr)
	}
}

func nodeAttrs(ev Event) []any {
	attrs := []any{"addr", ev.Addr, "attempt", ev.Attempt, "next_retry", time.Until(ev.NextRetry).Round(time.Millisecond)}
	var ne *rerr.NodeError
	if errors.As(ev.Err, &ne) {
		attrs = append(attrs, "phase", string(ne.Phase), "err", rerrCause(ne))
	}
	return attrs
}

func rerrCause(ne *rerr.NodeError) string {
	if ne.Err == nil {
		return ""
	}
	return ne.Err.Error()
}
