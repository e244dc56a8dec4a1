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
// that the server forgot it), within ctx and Options.CommandTimeout. On an error the
// channels are still removed from the Subscription (their messages are dropped), but
// the server may still count them: calling Unsubscribe again with them sends the
// unsubscription again, until it is confirmed.
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
	cn   cluster.Conn // the connection it is sent on (its node, its end)
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
	var emptied []*subGroup
	defer func() {
		// A group left without names ends its connection (after the confirmations:
		// this runs last), even when the call fails.
		for _, g := range emptied {
			g.quitted.Do(func() { close(g.quit) })
		}
	}()
	// First drop the names from every group (their messages are dropped from now on,
	// and a connection made from now on does not subscribe to them), then unsubscribe
	// on the connections that did. A name whose unsubscription is awaited stays so
	// until the server confirms it, or the connection ends: a call that failed leaves it
	// so, and a new call sends it again.
	var waits []unsubWait
	for _, g := range s.groups {
		gw, empty := g.drop(names)
		if empty {
			emptied = append(emptied, g)
		}
		waits = append(waits, gw...)
	}
	for i := 0; i < len(waits); {
		g, cn := waits[i].g, waits[i].cn
		j := i + 1
		for j < len(waits) && waits[j].g == g {
			j++
		}
		group := waits[i:j]
		i = j
		if !g.lock(ctx) {
			return rerr.Deadline(ctx, time.Since(start), &NodeError{Addr: cn.Addr(), Phase: PhaseWrite,
				Err: fmt.Errorf("%s: waiting for the subscription's connection", verb)})
		}
		args := make([]any, 0, len(group)+1)
		args = append(args, verb)
		for _, u := range group {
			args = append(args, u.name)
		}
		err := cluster.ConnSend(cn, &w, [][]any{args})
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
	}
	for _, u := range waits {
		select {
		case <-u.ch:
		case <-u.cn.Done():
		case <-s.ctx.Done(): // closed meanwhile: nothing is subscribed any more
		case <-ctx.Done():
			return rerr.Deadline(ctx, time.Since(start), &NodeError{Addr: u.cn.Addr(), Phase: PhaseRead, Written: true,
				Err: fmt.Errorf("%s %s: %w", verb, u.name, errNoConfirmation)})
		}
	}
	return nil
}

// drop removes names from the group's and returns the unsubscriptions to send on the
// group's connection (none between connections: the next subscribes to the others
// only) and whether no name is left. The names removed are the group's "gone" names
// from now on: their messages are dropped. A name removed earlier whose unsubscription
// is still awaited on the connection (a call that failed) is sent again.
func (g *subGroup) drop(names []string) (waits []unsubWait, empty bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	var removed []string
	for _, n := range names {
		if slices.Contains(g.names, n) && !slices.Contains(removed, n) {
			removed = append(removed, n)
		}
	}
	if len(removed) > 0 {
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
	}
	cn := g.cn
	if cn != nil {
		select {
		case <-cn.Done():
			cn = nil
		default:
		}
	}
	if cn == nil {
		return nil, len(removed) > 0 && len(g.names) == 0
	}
	for _, n := range names {
		ch, awaited := g.pending[n]
		if !awaited && !slices.Contains(removed, n) || slices.ContainsFunc(waits, func(u unsubWait) bool { return u.name == n }) {
			continue // not the group's, or already in
		}
		if !awaited {
			if g.pending == nil {
				g.pending = map[string]chan struct{}{}
			}
			ch = make(chan struct{})
			g.pending[n] = ch
		}
		waits = append(waits, unsubWait{g: g, name: n, ch: ch, cn: cn})
	}
	return waits, len(waits) > 0 && len(g.names) == 0
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
// name is still one of the group's (not unsubscribed by the caller: the server dropped
// it on its own). A confirmation arriving after its caller gave up, or a second one (a
// call repeated), is of a name unsubscribed.
func (g *subGroup) confirmUnsub(name string) (subscribed bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if ch, ok := g.pending[name]; ok {
		delete(g.pending, name)
		close(ch)
	}
	return slices.Contains(g.names, name)
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

// setConn records the connection the group is subscribed on (nil: none). The
// unsubscriptions awaited on the previous one are not any more: its end (which their
// callers watch) made the server forget them.
func (g *subGroup) setConn(cn cluster.Conn) {
	g.mu.Lock()
	g.setConnLocked(cn)
	g.mu.Unlock()
}

func (g *subGroup) setConnLocked(cn cluster.Conn) {
	if cn != g.cn {
		g.pending = nil
	}
	g.cn = cn
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
