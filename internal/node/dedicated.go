package node

import (
	"context"
	"errors"
	"time"

	"github.com/redline-go/redline/internal/conn"
	"github.com/redline-go/redline/internal/rerr"
)

// errTooManyDedicated is the cause when every dedicated connection is in use until
// the caller's deadline.
var errTooManyDedicated = errors.New("all dedicated connections are in use")

// Dedicated returns a connection for one caller's exclusive use — blocking commands,
// WATCH/MULTI, pub/sub — from a pool of at most MaxDedicated per node. Give it back
// with Release. A node known to be down fails at once; a new connection is dialed in
// the background and the caller leaves at its deadline if it is not ready by then.
func (n *Node) Dedicated(ctx context.Context) (*conn.Conn, error) {
	start := time.Now()
	if err := notDialed(ctx, n.addr); err != nil {
		return nil, err
	}
	n.mu.Lock()
	err := n.unusableLocked()
	n.mu.Unlock()
	if err != nil {
		return nil, err
	}

	select {
	case n.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, rerr.Deadline(ctx, time.Since(start), &rerr.NodeError{Addr: n.addr, Phase: rerr.PhaseDial, Err: errTooManyDedicated})
	}
	n.mu.Lock()
	for len(n.idle) > 0 {
		c := n.idle[len(n.idle)-1]
		n.idle = n.idle[:len(n.idle)-1]
		if c.Usable() { // alive, and nothing came while it was idle (a close, say)
			n.mu.Unlock()
			return c, nil
		}
	}
	n.mu.Unlock()

	type result struct {
		c   *conn.Conn
		err error
	}
	ch := make(chan result) // unbuffered: a result nobody takes is closed, not leaked
	abandoned := make(chan struct{})
	n.mu.Lock()
	if n.state == StateClosed {
		n.mu.Unlock()
		<-n.sem
		return nil, &rerr.NodeError{Addr: n.addr, Phase: rerr.PhaseDial, Err: rerr.ErrClosed}
	}
	n.wg.Add(1) // under the lock: Close cannot be waiting yet
	n.mu.Unlock()
	// The attempt serves this caller alone: it ends when the caller leaves, too, so
	// that an abandoned attempt does not hold a slot of the pool for DialTimeout. An
	// abandoned attempt cleans up after itself (closes what it yields, frees its
	// slot) in this same goroutine, which Close waits for: no goroutine is started
	// once the caller has left, when Close may already be waiting.
	dctx, cancel := context.WithTimeout(n.ctx, n.opts.DialTimeout)
	o := n.connOptions()
	var at attempt // its own phase and start, for the caller that leaves (not the shared dial's)
	at.track(o)
	go func() {
		defer n.wg.Done()
		t0 := time.Now()
		c, err := conn.Dial(dctx, o)
		cancel()
		n.dials.Add(1)
		if err != nil {
			n.dialFailures.Add(1)
			n.lastErrAt.Store(time.Now().UnixNano())
		}
		if n.opts.OnDial != nil {
			n.opts.OnDial(DialEvent{Addr: n.addr, Elapsed: time.Since(t0), Err: err, Dedicated: true, Zone: connZone(c)})
		}
		select {
		case ch <- result{c, err}:
		case <-abandoned:
			if c != nil {
				c.Close()
			}
			<-n.sem
		}
	}()
	select {
	case r := <-ch:
		if r.err != nil {
			<-n.sem
			if ctx.Err() != nil { // the caller's deadline has passed too: say so
				return nil, rerr.Deadline(ctx, time.Since(start), asNodeError(n.addr, r.err))
			}
			return nil, r.err
		}
		return r.c, nil
	case <-ctx.Done():
		cancel() // nobody else can use the attempt: end it
		close(abandoned)
		select { // it may have just arrived: then it is ours to close
		case r := <-ch:
			if r.c != nil {
				r.c.Close()
			}
			<-n.sem
		default:
		}
		n.mu.Lock()
		last := n.lastErr
		n.mu.Unlock()
		return nil, rerr.Deadline(ctx, time.Since(start), at.err(n, last))
	}
}

// Release returns a dedicated connection. With reuse false (or a dead connection, or
// a closed node), it is closed: a caller that left a blocking command or a transaction
// mid-way must not hand the connection to someone else.
func (n *Node) Release(c *conn.Conn, reuse bool) {
	n.mu.Lock()
	if reuse && c.Err() == nil && n.state != StateClosed && len(n.idle) < cap(n.sem) {
		n.idle = append(n.idle, c)
		n.mu.Unlock()
	} else {
		n.mu.Unlock()
		c.Close()
	}
	<-n.sem
}

// DialOwn dials a connection outside the pool, for a caller that configures it itself
// (pub/sub: push and unsolicited-reply handlers) and closes it when done. A node known
// to be down fails at once; the attempt runs in the background and the caller leaves
// at ctx's end (the connection, if it comes later, is closed).
func (n *Node) DialOwn(ctx context.Context, tweak func(*conn.Options)) (*conn.Conn, error) {
	start := time.Now()
	if err := notDialed(ctx, n.addr); err != nil {
		return nil, err
	}
	n.mu.Lock()
	if err := n.unusableLocked(); err != nil {
		n.mu.Unlock()
		return nil, err
	}
	n.wg.Add(1) // under the lock: Close cannot be waiting yet
	n.mu.Unlock()
	o := n.connOptions()
	if tweak != nil {
		tweak(o)
	}
	var at attempt
	at.track(o)
	type result struct {
		c   *conn.Conn
		err error
	}
	ch := make(chan result) // unbuffered: a result nobody takes is closed, not leaked
	abandoned := make(chan struct{})
	// The attempt serves this caller alone: it ends when the caller leaves, too.
	dctx, cancel := context.WithTimeout(n.ctx, n.opts.DialTimeout)
	go func() {
		defer n.wg.Done()
		c, err := conn.Dial(dctx, o)
		cancel()
		n.dials.Add(1)
		if err != nil {
			n.dialFailures.Add(1)
			n.lastErrAt.Store(time.Now().UnixNano())
		}
		select {
		case ch <- result{c, err}:
		case <-abandoned:
			if c != nil {
				c.Close()
			}
		}
	}()
	select {
	case r := <-ch:
		return r.c, r.err
	case <-ctx.Done():
		cancel() // nobody else can use the attempt: end it
		close(abandoned)
		select { // it may have just arrived
		case r := <-ch:
			if r.c != nil {
				r.c.Close()
			}
		default:
		}
		n.mu.Lock()
		last := n.lastErr
		n.mu.Unlock()
		return nil, rerr.Deadline(ctx, time.Since(start), at.err(n, last))
	}
}

// errNotDialed is the cause for a caller that asked for a connection after its
// context had ended.
var errNotDialed = errors.New("not dialed: the call's context had already ended")

// notDialed returns the error for a caller whose context has already ended (no
// connection attempt is started for it), nil otherwise.
func notDialed(ctx context.Context, addr string) error {
	if ctx.Err() == nil {
		return nil
	}
	return rerr.Deadline(ctx, 0, &rerr.NodeError{Addr: addr, Phase: rerr.PhaseDial, Err: errNotDialed})
}
