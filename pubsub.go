package redline

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redline-go/redline/internal/cluster"
	"github.com/redline-go/redline/internal/rerr"
	"github.com/redline-go/redline/resp"
)

// MessageKind says what a Message is (Message.Kind).
type MessageKind string

// The kinds of Message.
const (
	KindMessage  MessageKind = "message"  // published to a channel of a SUBSCRIBE
	KindPMessage MessageKind = "pmessage" // published to a channel matching a PSUBSCRIBE pattern
	KindSMessage MessageKind = "smessage" // published to a shard channel of an SSUBSCRIBE
	// KindGap: messages may have been missed — the connection was lost and the
	// subscription re-made, a shard channel's slot moved, or the reader fell behind;
	// Message.Err says which.
	KindGap MessageKind = "gap"
)

// Message is one event of a Subscription: a published message, or a gap.
type Message struct {
	// Kind is KindMessage, KindPMessage, KindSMessage, or KindGap (with Err).
	Kind    MessageKind
	Channel string
	Pattern string // for pmessage
	Payload string
	Err     error // for gap
}

// errNoConfirmation is the cause of a subscription whose context ended before the
// node confirmed it.
var errNoConfirmation = errors.New("not confirmed yet")

// subBuffer is how many messages a Subscription buffers for a slow reader; beyond it,
// messages are dropped and a gap is reported.
const subBuffer = 1024

// Subscription receives messages on Messages() until Close. It re-subscribes by itself
// after a connection loss, and a sharded subscription follows its channels' slots when
// they move (migration, failover); each such event is reported as a "gap" Message.
type Subscription struct {
	c       *Client
	kind    string // SUBSCRIBE, PSUBSCRIBE or SSUBSCRIBE
	msgs    chan Message
	ctx     context.Context // canceled by Close, and by the client's Close
	cancel  context.CancelFunc
	once    sync.Once
	wg      sync.WaitGroup
	mu      sync.Mutex
	dropped int
	groups  []*subGroup // set once by subscribe, read-only after
}

// Subscribe subscribes to channels (on any one node: PUBLISH reaches every node).
//
// Command: SUBSCRIBE channel [channel ...], on a connection of its own to one node;
// sent again on a new connection when that one is lost.
func (c *Client) Subscribe(ctx context.Context, channels ...string) (*Subscription, error) {
	return c.subscribe(ctx, "SUBSCRIBE", channels)
}

// PSubscribe subscribes to channel patterns.
//
// Command: PSUBSCRIBE pattern [pattern ...], on a connection of its own to one node;
// sent again on a new connection when that one is lost.
func (c *Client) PSubscribe(ctx context.Context, patterns ...string) (*Subscription, error) {
	return c.subscribe(ctx, "PSUBSCRIBE", patterns)
}

// SSubscribe subscribes to shard channels (Redis 7): each channel on the node that owns
// its slot, following the slot when it moves.
//
// Command: SSUBSCRIBE shardchannel [shardchannel ...], one per slot of the channels,
// each on a connection of its own to the slot's primary; sent again on a new
// connection when the slot moves or the connection is lost.
func (c *Client) SSubscribe(ctx context.Context, channels ...string) (*Subscription, error) {
	return c.subscribe(ctx, "SSUBSCRIBE", channels)
}

func (c *Client) subscribe(ctx context.Context, kind string, names []string) (*Subscription, error) {
	if len(names) == 0 {
		return nil, fmt.Errorf("redline: %s: no channel given", strings.ToLower(kind))
	}
	if c.e.Closed() {
		return nil, ErrClosed
	}
	if c.opts.Protocol == 2 {
		return nil, errors.New("redline: pub/sub needs RESP3 (Options.Protocol 3, the default)")
	}
	start := time.Now()
	s := &Subscription{c: c, kind: kind, msgs: make(chan Message, subBuffer)}
	s.ctx, s.cancel = context.WithCancel(c.e.Ctx())
	groups := map[int][]string{} // by slot for shard channels; one group (-1) otherwise
	for _, n := range names {
		slot := -1
		if kind == "SSUBSCRIBE" {
			slot = c.e.KeySlot(n) // one group on a standalone server
		}
		groups[slot] = append(groups[slot], n)
	}
	ready := make(chan error, len(groups))
	started := make([]*subGroup, 0, len(groups))
	for slot, chans := range groups {
		g := &subGroup{s: s, slot: slot, names: append([]string(nil), chans...), moved: make(chan struct{}, 1), confirm: make(chan struct{}, len(chans)),
			send: make(chan struct{}, 1), quit: make(chan struct{})}
		if !c.e.GoAdd() { // the client's Close waits for it too; none after Close
			s.Close()
			return nil, ErrClosed
		}
		s.wg.Add(1)
		started = append(started, g)
		go g.run(ready)
	}
	s.groups = started
	for range started { // the first subscription of every group, within ctx
		select {
		case err := <-ready:
			if err != nil {
				s.Close()
				return nil, err
			}
		case <-ctx.Done():
			err := rerr.Deadline(ctx, time.Since(start), waitingOn(started))
			s.Close()
			return nil, err
		}
	}
	return s, nil
}

// waitingOn is what a subscription whose context ended was waiting for: the node of
// the first group not subscribed yet, and the phase it was in (nil: no node chosen).
func waitingOn(groups []*subGroup) *NodeError {
	for _, g := range groups {
		if !g.subscribed.Load() {
			return g.waiting.Load()
		}
	}
	return nil
}

// Messages returns the channel messages arrive on; it is closed by Close.
func (s *Subscription) Messages() <-chan Message { return s.msgs }

// Close ends the subscription and its connections; Messages is closed after.
func (s *Subscription) Close() error {
	s.once.Do(func() {
		s.cancel()
		s.wg.Wait()
		s.mu.Lock()
		close(s.msgs)
		s.mu.Unlock()
	})
	return nil
}

// deliver hands a message to the reader without ever blocking the connection's reader
// goroutine: when the buffer is full the message is dropped and a gap reported later.
func (s *Subscription) deliver(m Message) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ctx.Err() != nil {
		return // closing: msgs may be closed
	}
	if s.dropped > 0 {
		select {
		case s.msgs <- Message{Kind: KindGap, Err: fmt.Errorf("redline: %d messages dropped: the reader fell behind", s.dropped)}:
			s.dropped = 0
		default:
			s.dropped++
			return
		}
	}
	select {
	case s.msgs <- m:
	default:
		s.dropped++
	}
}

// subGroup is the channels of a subscription that share a connection: all of them for
// SUBSCRIBE/PSUBSCRIBE, one slot's for SSUBSCRIBE.
type subGroup struct {
	s       *Subscription
	slot    int // -1: any node
	names   []string
	addr    atomic.Value  // string: the node the group is subscribed on
	confirm chan struct{} // one per subscribe confirmation (push) received
	// waiting is what the group's connect is waiting for (dial, or the confirmation),
	// for the error of a Subscribe whose context ends first; subscribed is set once the
	// first subscription is confirmed.
	waiting    atomic.Pointer[NodeError]
	subscribed atomic.Bool
	moved      chan struct{} // signaled when the slot moved (MOVED reply, server-side sunsubscribe)

	// Partial unsubscription (pubsub_unsub.go). mu guards names, cn and pending; send
	// is held (without blocking past a deadline) from reading names to writing the
	// SUBSCRIBE or UNSUBSCRIBE that follows, so that on one connection they are written
	// in the order of the decisions.
	mu      sync.Mutex
	send    chan struct{}                       // capacity 1: the lock
	cn      cluster.Conn                        // the connection subscribed on, nil between
	pending map[string]chan struct{}            // name → closed on its unsubscribe push on cn
	gone    atomic.Pointer[map[string]struct{}] // unsubscribed names: their messages are dropped
	quit    chan struct{}                       // closed when the group has no name left
	quitted sync.Once
}

// run keeps the group subscribed until the subscription closes: connect to the right
// node, subscribe, wait for the connection to end or the slot to move, report a gap,
// start over (with backoff while nodes fail).
func (g *subGroup) run(ready chan<- error) {
	s := g.s
	defer s.c.e.GoDone()
	defer s.wg.Done()
	backoff := s.c.opts.RetryBackoff
	first := true
	var follow <-chan time.Time // Sentinel: the primary is followed (see primaryMoved)
	if s.c.opts.Sentinel.enabled() {
		t := time.NewTicker(sentinelFollowEvery)
		defer t.Stop()
		follow = t.C
	}
	for {
		cn, err := g.connect()
		if err == nil {
			if first {
				g.subscribed.Store(true)
				ready <- nil
				first = false
			}
			backoff = s.c.opts.RetryBackoff
			var cause error
		wait:
			for {
				select {
				case <-s.ctx.Done():
					cn.Close()
					return
				case <-g.quit: // every name unsubscribed
					g.setConn(nil)
					cn.Close()
					return
				case <-cn.Done():
					cause = cn.Err()
					break wait
				case <-g.moved:
					cause = errors.New("the shard channel's slot moved to another node")
					break wait
				case <-follow:
					if cause = g.primaryMoved(cn.Addr()); cause != nil {
						break wait
					}
				}
			}
			g.setConn(nil)
			cn.Close()
			s.c.e.TriggerRefresh()
			s.deliver(Message{Kind: KindGap, Err: fmt.Errorf("redline: re-subscribing %v: %w", g.namesNow(), cause)})
		} else if first {
			ready <- err
			return
		}
		t := time.NewTimer(cluster.Jitter(backoff))
		select {
		case <-s.ctx.Done():
			t.Stop()
			return
		case <-g.quit:
			t.Stop()
			return
		case <-t.C:
		}
		backoff = min(2*backoff, s.c.opts.RetryBackoffMax)
	}
}

// sentinelFollowEvery is how often a subscription of a Sentinel client checks that it
// is on the primary the Sentinels name (an atomic load: cheap).
const sentinelFollowEvery = 50 * time.Millisecond

// primaryMoved returns why the group must move when the client now routes it to
// another node than addr, the one it is subscribed on: after a Sentinel failover,
// messages are published on the new primary, and the old one (until demoted, or for
// ever if it is only cut off from the Sentinels) would deliver none of them.
func (g *subGroup) primaryMoved(addr string) error {
	n, err := g.s.c.e.Pick(g.slot, false)
	if err != nil || n.Addr() == addr {
		return nil
	}
	return fmt.Errorf("the Sentinels named a new primary, %s (was %s)", n.Addr(), addr)
}

// connect dials the group's node and sends the subscription.
func (g *subGroup) connect() (cluster.Conn, error) {
	s := g.s
	n, err := s.c.e.Pick(g.slot, false)
	if err != nil {
		return nil, err
	}
	ctx, cancel := s.c.e.DeriveCtx(s.ctx)
	defer cancel()
	start := time.Now()
	g.addr.Store(n.Addr())
	g.waiting.Store(&NodeError{Addr: n.Addr(), Phase: PhaseDial, Err: rerr.ErrConnecting})
	cn, err := n.DialOwn(ctx, func(o *cluster.ConnOptions) {
		o.ReadOnly = false
		o.OnPush = g.onPush
		o.OnUnsolicited = g.onUnsolicited
	})
	if err != nil {
		return nil, err
	}
	for len(g.confirm) > 0 { // confirmations of an earlier connection
		<-g.confirm
	}
	w := cluster.NewWaiter(ctx, time.Time{})
	defer w.Release()
	if !g.lock(ctx) {
		cn.Close()
		return nil, rerr.Deadline(ctx, time.Since(start), g.waiting.Load())
	}
	g.mu.Lock()
	names := append([]string(nil), g.names...) // an Unsubscribe may change g.names
	g.setConnLocked(cn)
	g.mu.Unlock()
	if len(names) == 0 { // all unsubscribed meanwhile: run sees quit
		g.unlock()
		g.setConn(nil)
		cn.Close()
		return nil, errors.New("redline: no channel left to subscribe to")
	}
	args := make([]any, 0, len(names)+1)
	args = append(args, s.kind)
	for _, name := range names {
		args = append(args, name)
	}
	err = cluster.ConnSend(cn, &w, [][]any{args})
	g.unlock()
	if err != nil {
		g.setConn(nil)
		cn.Close()
		return nil, err
	}
	noConfirm := &NodeError{Addr: n.Addr(), Phase: PhaseRead, Written: true,
		Err: fmt.Errorf("%s %v: %w", s.kind, names, errNoConfirmation)}
	g.waiting.Store(noConfirm)
	// Subscribed means confirmed: a message published after this returns is received.
	for range names {
		select {
		case <-g.confirm:
		case <-cn.Done():
			return nil, cn.Err()
		case <-g.moved:
			cn.Close()
			return nil, fmt.Errorf("redline: %s %v: the slot is served elsewhere", s.kind, names)
		case <-ctx.Done():
			cn.Close()
			return nil, rerr.Deadline(ctx, time.Since(start), noConfirm)
		}
	}
	return cn, nil
}

// onPush turns push frames into Messages; runs on the connection's reader goroutine.
func (g *subGroup) onPush(v resp.Value) {
	if len(v.Elems) < 2 {
		return
	}
	str := func(i int) string {
		if i < len(v.Elems) {
			return string(v.Elems[i].Str)
		}
		return ""
	}
	switch kind := strings.ToLower(str(0)); kind {
	case "message":
		if !g.isGone(v.Elems[1].Str) {
			g.s.deliver(Message{Kind: KindMessage, Channel: str(1), Payload: str(2)})
		}
	case "smessage":
		if !g.isGone(v.Elems[1].Str) {
			g.s.deliver(Message{Kind: KindSMessage, Channel: str(1), Payload: str(2)})
		}
	case "pmessage":
		if !g.isGone(v.Elems[1].Str) {
			g.s.deliver(Message{Kind: KindPMessage, Pattern: str(1), Channel: str(2), Payload: str(3)})
		}
	case "subscribe", "psubscribe", "ssubscribe":
		select {
		case g.confirm <- struct{}{}:
		default:
		}
	case "unsubscribe", "punsubscribe":
		g.confirmUnsub(str(1))
	case "sunsubscribe":
		if g.confirmUnsub(str(1)) {
			// Of a channel not unsubscribed: the server dropped it because the slot
			// left this node.
			g.signalMoved()
		}
	}
}

// onUnsolicited takes a reply no request waits for: an error answering the subscription
// (MOVED when the slot is elsewhere). Anything else is a desynchronized stream.
func (g *subGroup) onUnsolicited(v resp.Value) bool {
	if v.Err == nil {
		return false
	}
	if v.Err.IsMoved() {
		from, _ := g.addr.Load().(string)
		g.s.c.e.ApplyMoved(v.Err.Slot, cluster.ResolveAddr(v.Err.Addr, from))
		g.signalMoved()
		return true
	}
	g.s.deliver(Message{Kind: KindGap, Err: fmt.Errorf("redline: %s refused: %w", g.s.kind, v.Err)})
	g.signalMoved() // try again, after backoff
	return true
}

func (g *subGroup) signalMoved() {
	select {
	case g.moved <- struct{}{}:
	default:
	}
}
