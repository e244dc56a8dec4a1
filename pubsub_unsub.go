package redline

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/redline-go/redline/internal/cluster"
	"github.com/redline-go/redline/internal/rerr"
)

// Unsubscribe ends the subscription to some of the channels of a Subscription made by
// Client.Subscribe; the others stay subscribed, and the Subscription stays open (until
// Close) even with none left. Names it does not have are ignored. Once it returns,
// no message of those channels is delivered any more (those already waiting on
// Messages stay there), and a connection re-made later subscribes to the others only.
// It returns when the server confirmed the unsubscription, or the connection ended (so
// that the server forgot it), within ctx and Options.CommandTimeout; on an error the
// channels are still removed from the Subscription.
//
// Command: UNSUBSCRIBE channel [channel ...], on the Subscription's connection.
func (s *Subscription) Unsubscribe(ctx context.Context, channels ...string) error {
	return s.unsubscribe(ctx, "SUBSCRIBE", channels)
}

// PUnsubscribe ends the subscription to some of the patterns of a Subscription made by
// Client.PSubscribe, as Unsubscribe does for channels.
//
// Command: PUNSUBSCRIBE pattern [pattern ...], on the Subscription's connection.
func (s *Subscription) PUnsubscribe(ctx context.Context, patterns ...string) error {
	return s.unsubscribe(ctx, "PSUBSCRIBE", patterns)
}

// SUnsubscribe ends the subscription to some of the shard channels of a Subscription
// made by Client.SSubscribe, as Unsubscribe does for channels.
//
// Command: SUNSUBSCRIBE shardchannel [shardchannel ...], on the connection to the node
// of each channel's slot (one command per node concerned).
func (s *Subscription) SUnsubscribe(ctx context.Context, channels ...string) error {
	return s.unsubscribe(ctx, "SSUBSCRIBE", channels)
}

// unsubWait is one name whose unsubscription is awaited.
type unsubWait struct {
	g    *subGroup
	name string
	ch   chan struct{}
	done <-chan struct{} // the connection it was sent on ended
}

func (s *Subscription) unsubscribe(ctx context.Context, kind string, names []string) error {
	verb := "UN" + kind
	if kind != "SUBSCRIBE" {
		verb = kind[:1] + "UN" + kind[1:]
	}
	if s.kind != kind {
		return fmt.Errorf("redline: %s on a subscription of %s", verb, s.kind)
	}
	if len(names) == 0 {
		return fmt.Errorf("redline: %s: no channel given (Close ends the whole subscription)", strings.ToLower(verb))
	}
	if s.ctx.Err() != nil {
		return ErrClosed
	}
	start := time.Now()
	ctx, cancel := s.c.e.DeriveCtx(ctx)
	defer cancel()
	w := cluster.NewWaiter(ctx, time.Time{})
	defer w.Release()
	var waits []unsubWait
	var emptied []*subGroup
	defer func() {
		// A group left without names ends its connection (after the confirmations:
		// this runs last), even when the call fails.
		for _, g := range emptied {
			g.quitted.Do(func() { close(g.quit) })
		}
		// Whatever was not confirmed is awaited no longer.
		for _, u := range waits {
			u.g.mu.Lock()
			if u.g.pending[u.name] == u.ch {
				delete(u.g.pending, u.name)
			}
			u.g.mu.Unlock()
		}
	}()
	// First drop the names from every group (their messages are dropped from now on,
	// and a connection made from now on does not subscribe to them), then unsubscribe
	// on the connections that did.
	type sending struct {
		g    *subGroup
		sent []string
		cn   cluster.Conn
	}
	var sends []sending
	for _, g := range s.groups {
		sent, cn, empty := g.drop(names)
		if empty {
			emptied = append(emptied, g)
		}
		if cn != nil { // nil between connections: the next subscribes to the others only
			sends = append(sends, sending{g, sent, cn})
		}
	}
	var addr string
	for _, d := range sends {
		g := d.g
		if !g.lock(ctx) {
			return rerr.Deadline(ctx, time.Since(start), &NodeError{Addr: d.cn.Addr(), Phase: PhaseWrite,
				Err: fmt.Errorf("%s: waiting for the subscription's connection", verb)})
		}
		args := make([]any, 0, len(d.sent)+1)
		args = append(args, verb)
		g.mu.Lock()
		if g.pending == nil {
			g.pending = map[string]chan struct{}{}
		}
		for _, n := range d.sent {
			args = append(args, n)
			ch := make(chan struct{})
			g.pending[n] = ch
			waits = append(waits, unsubWait{g: g, name: n, ch: ch, done: d.cn.Done()})
		}
		g.mu.Unlock()
		err := cluster.ConnSend(d.cn, &w, [][]any{args})
		g.unlock()
		if err != nil {
			var de *DeadlineError
			if errors.As(err, &de) {
				return err
			}
			// The connection broke: the server forgets its subscriptions, and the
			// group's next connection subscribes to the others only.
			continue
		}
		addr = d.cn.Addr()
	}
	for _, u := range waits {
		select {
		case <-u.ch:
		case <-u.done:
		case <-s.ctx.Done(): // closed meanwhile: nothing is subscribed any more
		case <-ctx.Done():
			return rerr.Deadline(ctx, time.Since(start), &NodeError{Addr: addr, Phase: PhaseRead, Written: true,
				Err: fmt.Errorf("%s %s: %w", verb, u.name, errNoConfirmation)})
		}
	}
	return nil
}

// drop removes names from the group's and returns those it had (each once), the
// connection subscribed on (nil between connections) and whether none is left. The
// names removed are the group's "gone" names from now on: their messages are dropped.
func (g *subGroup) drop(names []string) (removed []string, cn cluster.Conn, empty bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, n := range names {
		if slices.Contains(g.names, n) && !slices.Contains(removed, n) {
			removed = append(removed, n)
		}
	}
	if len(removed) == 0 {
		return nil, nil, false // not the group's: nothing changes
	}
	g.names = slices.DeleteFunc(g.names, func(n string) bool { return slices.Contains(removed, n) })
	gone := map[string]struct{}{}
	if old := g.gone.Load(); old != nil {
		for n := range *old {
			gone[n] = struct{}{}
		}
	}
	for _, n := range removed {
		gone[n] = struct{}{}
	}
	g.gone.Store(&gone)
	cn = g.cn
	if cn != nil {
		select {
		case <-cn.Done():
			cn = nil
		default:
		}
	}
	return removed, cn, len(g.names) == 0
}

// isGone reports whether name was unsubscribed (its messages are dropped); one atomic
// load while nothing was, no allocation.
func (g *subGroup) isGone(name []byte) bool {
	gone := g.gone.Load()
	if gone == nil {
		return false
	}
	_, ok := (*gone)[string(name)]
	return ok
}

// confirmUnsub takes the server's confirmation of an unsubscription; it reports whether
// one was awaited for name.
func (g *subGroup) confirmUnsub(name string) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	ch, ok := g.pending[name]
	if ok {
		delete(g.pending, name)
		close(ch)
	}
	return ok
}

// lock takes the group's send lock, or fails when ctx ends first.
func (g *subGroup) lock(ctx context.Context) bool {
	select {
	case g.send <- struct{}{}:
		return true
	case <-ctx.Done():
		return false
	}
}

func (g *subGroup) unlock() { <-g.send }

// setConn records the connection the group is subscribed on (nil: none).
func (g *subGroup) setConn(cn cluster.Conn) {
	g.mu.Lock()
	g.cn = cn
	g.mu.Unlock()
}

// curAddr is the address of the group's node, "" before one was chosen.
func (g *subGroup) curAddr() string {
	a, _ := g.addr.Load().(string)
	return a
}

// namesNow returns a copy of the group's names.
func (g *subGroup) namesNow() []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return slices.Clone(g.names)
}
