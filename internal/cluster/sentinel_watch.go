package cluster

import (
	"context"
	"fmt"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redline-go/redline/internal/conn"
	"github.com/redline-go/redline/internal/topology"
	"github.com/redline-go/redline/resp"
)

// A failover seen as it happens. The Sentinels name a promoted replica only once their
// INFO polling has seen its new role (up to a second after SLAVEOF NO ONE), and the
// Sentinel a client listens to may not be the failover's leader (it learns from the
// leader's hello messages, later still). So every Sentinel is watched (one
// subscription each), and the leader's own events — +selected-slave,
// +failover-state-send-slaveof-noone, +failover-state-wait-promotion, which name the
// replica chosen and the master it replaces — start a poll of that replica's ROLE every
// promotePoll (for promoteWatch at most, promoteAsks asks at most). The client moves to
// it once the replica itself answers ROLE master: one Sentinel's event is a hint, the
// server's own word decides, as in discovery. An event about a master other than the
// primary in use (a Sentinel whose view is stale, or an old failover) is ignored. Calls
// already sent to the old primary are not re-sent: they end as they would (at their
// deadline, or with MayHaveExecuted when its connection goes).
//
// The Sentinels go on naming the old primary for a while after the switch; a
// rediscovery in that time (promotedHold) that would take it back is not installed
// while the promoted replica still answers ROLE master (see keepPromoted).

// promotePoll is how often the replica a failover's leader chose is asked its ROLE;
// promoteWatch how long after the event, and promoteAsks how many times at most;
// promoteAskWait bounds one ask (a replica that does not answer is asked again).
const (
	promotePoll    = 5 * time.Millisecond
	promoteWatch   = 2 * time.Second
	promoteAsks    = int(promoteWatch / promotePoll)
	promoteAskWait = 100 * time.Millisecond
)

// The Sentinels' channels the client subscribes to.
var sentinelChannels = []any{"SUBSCRIBE", "+switch-master", "+promoted-slave",
	"+selected-slave", "+failover-state-send-slaveof-noone", "+failover-state-wait-promotion"}

// sentinelFollow is the engine's state for following a failover as it happens.
type sentinelFollow struct {
	mu       sync.Mutex      // orders a switch against a rediscovery's install; guards polling
	polling  map[string]bool // replicas whose ROLE is being polled
	promoted atomic.Pointer[promotionSeen]
	asks     atomic.Int64 // ROLE asks the polls made (for tests)
}

// promotionSeen is the last promotion the client followed: the master replaced, the
// replica that answered ROLE master in its place, and when.
type promotionSeen struct {
	from, to string
	at       time.Time
}

// sentinelWatch keeps a subscription to the failover's events on every Sentinel (one
// goroutine each; this one serves the first). Close waits for them all.
func (c *Engine) sentinelWatch() {
	defer c.wg.Done()
	for i := 1; i < len(c.sentinels); i++ {
		c.wg.Add(1) // the counter is > 0 (this goroutine's): safe beside Close's Wait
		go func() { defer c.wg.Done(); c.watchSentinel(i) }()
	}
	c.watchSentinel(0)
}

// watchSentinel keeps the subscription on Sentinel i, dialing it again after a backoff
// when its connection fails. The connection PINGs when silent (sentinelWatchCheck): a
// hung Sentinel fails it like a closed one. When no subscription is up any more, or one
// comes up while none was (a switch may have gone unseen), the Sentinels are asked
// again; while none is up, sentinelLoop polls them every sentinelPoll. A Sentinel that
// does not speak RESP3 fails its subscription; the others, the polling and the
// triggers remain.
func (c *Engine) watchSentinel(i int) {
	backoff := c.cfg.RetryBackoffMax
	for attempt := 0; ; attempt++ {
		if cn, err := c.watchOn(i); err == nil {
			if c.watching.Add(1) == 1 && attempt > 0 {
				c.TriggerRefresh()
			}
			select {
			case <-c.ctx.Done():
				c.watching.Add(-1)
				cn.Close()
				return
			case <-cn.Done():
			}
			if c.watching.Add(-1) == 0 {
				c.TriggerRefresh() // a switch may come unseen until the next subscription
			}
			if c.cfg.Logger != nil && c.ctx.Err() == nil {
				c.cfg.Logger.Warn("redline: the subscription to a Sentinel's failover events failed; dialing it again", "sentinel", c.sentinels[i].Addr(), "err", fmt.Sprint(cn.Err()))
			}
			cn.Close()
			backoff = c.cfg.RetryBackoffMax
		}
		t := time.NewTimer(Jitter(backoff))
		select {
		case <-c.ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		backoff = min(2*backoff, time.Second)
	}
}

// watchOn subscribes to the failover's events on Sentinel i.
func (c *Engine) watchOn(i int) (Conn, error) {
	ctx, cancel := context.WithTimeout(c.ctx, c.cfg.DialTimeout+c.cfg.CommandTimeout)
	defer cancel()
	cn, err := c.sentinels[i].DialOwn(ctx, func(o *conn.Options) {
		o.Protocol = 3
		o.IdleCheck, o.ReplyTimeout = sentinelWatchCheck, sentinelWatchCheck
		o.OnPush = func(v resp.Value) {
			// ["message", channel, text]
			if len(v.Elems) == 3 && string(v.Elems[0].Str) == "message" {
				c.sentinelEvent(i, string(v.Elems[1].Str), string(v.Elems[2].Str))
			}
		}
	})
	if err != nil {
		return nil, err
	}
	w := conn.NewWaiter(ctx, time.Time{})
	defer w.Release()
	if err := cn.Send(&w, [][]any{sentinelChannels}); err != nil {
		cn.Close()
		return nil, err
	}
	return cn, nil
}

// sentinelEvent handles one message of Sentinel i (on its connection's reader: it
// never blocks).
//   - "+switch-master": "<name> <old-ip> <old-port> <new-ip> <new-port>", published
//     once every replica is reconfigured (seconds after the promotion);
//     "+promoted-slave": "slave <ip>:<port> <ip> <port> @ <name> <ip> <port>", when the
//     leader has seen the promotion. Both make the Sentinels be asked again at once.
//   - "+selected-slave", "+failover-state-send-slaveof-noone",
//     "+failover-state-wait-promotion" (same form): the leader chose that replica; its
//     ROLE is polled (followPromotion) if the master named is the primary in use.
func (c *Engine) sentinelEvent(i int, ch, msg string) {
	name := c.cfg.Sentinel.MasterName
	switch ch {
	case "+switch-master":
		if strings.HasPrefix(msg, name+" ") {
			c.signalSwitched()
		}
	case "+promoted-slave":
		if _, master, ok := parseSentinelInstance(msg, name); ok && master != "" {
			c.signalSwitched()
		}
	case "+selected-slave", "+failover-state-send-slaveof-noone", "+failover-state-wait-promotion":
		replica, master, ok := parseSentinelInstance(msg, name)
		if !ok || master != c.primaryAddr() || replica == master {
			return // not this master's failover, or not of the primary in use
		}
		c.followPromotion(i, master, replica)
	}
}

// signalSwitched wakes sentinelLoop to ask the Sentinels at once.
func (c *Engine) signalSwitched() {
	select {
	case c.switched <- struct{}{}:
	default:
	}
}

// parseSentinelInstance parses a Sentinel event about a replica of master name:
// "slave <ip>:<port> <ip> <port> @ <name> <master-ip> <master-port>". ok is false for
// another form or another master's name.
func parseSentinelInstance(msg, name string) (replica, master string, ok bool) {
	f := strings.Fields(msg)
	if len(f) != 8 || f[0] != "slave" || f[4] != "@" || f[5] != name {
		return "", "", false
	}
	return net.JoinHostPort(f[2], f[3]), net.JoinHostPort(f[6], f[7]), true
}

// primaryAddr is the primary in use ("" before the first table).
func (c *Engine) primaryAddr() string {
	if t := c.topo.Load(); t != nil {
		if s := t.Slot(0); s != nil {
			return s.Primary.Addr
		}
	}
	return ""
}

// followPromotion polls replica's ROLE (on a goroutine of its own) until it answers
// master — then the client moves to it, if master is still the primary in use — or
// the poll's bounds end. One poll per replica at a time, and at most one per Sentinel.
func (c *Engine) followPromotion(from int, master, replica string) {
	f := &c.follow
	f.mu.Lock()
	if f.polling[replica] || len(f.polling) >= len(c.sentinels) {
		f.mu.Unlock()
		return
	}
	if !c.GoAdd() { // closed
		f.mu.Unlock()
		return
	}
	if f.polling == nil {
		f.polling = map[string]bool{}
	}
	f.polling[replica] = true
	f.mu.Unlock()
	if c.cfg.Logger != nil {
		c.cfg.Logger.Info("redline: a Sentinel reports a failover; asking the chosen replica its ROLE", "sentinel", c.sentinels[from].Addr(), "master", master, "replica", replica)
	}
	go func() {
		defer c.GoDone()
		defer func() {
			f.mu.Lock()
			delete(f.polling, replica)
			f.mu.Unlock()
		}()
		if c.awaitMaster(replica) {
			c.switchTo(master, replica)
		}
	}()
}

// awaitMaster asks replica its ROLE every promotePoll until it answers master (true),
// for promoteWatch and promoteAsks asks at most, or until the engine closes.
func (c *Engine) awaitMaster(replica string) bool {
	end := time.Now().Add(promoteWatch)
	tick := time.NewTicker(promotePoll)
	defer tick.Stop()
	n := c.NodeAt(replica)
	for range promoteAsks {
		dl := time.Now().Add(promoteAskWait)
		if end.Before(dl) {
			dl = end
		}
		ctx, cancel := context.WithDeadline(c.ctx, dl)
		v, err := DoOn(ctx, n, "ROLE")
		cancel()
		c.follow.asks.Add(1)
		if err == nil && roleOf(v) == "master" {
			return true
		}
		if !time.Now().Before(end) {
			return false
		}
		select {
		case <-c.ctx.Done():
			return false
		case <-tick.C:
		}
	}
	return false
}

// switchTo makes replica, which answered ROLE master, the primary in place of master,
// unless the primary in use is no longer master. The other replicas are kept (the
// Sentinels move them to the new primary; the next asking lists them anew).
func (c *Engine) switchTo(master, replica string) {
	f := &c.follow
	f.mu.Lock()
	defer f.mu.Unlock()
	cur := c.topo.Load()
	if cur == nil || cur.Slot(0) == nil || cur.Slot(0).Primary.Addr != master {
		return
	}
	var replicas []string
	for _, r := range cur.Slot(0).Replicas {
		if r.Addr != replica {
			replicas = append(replicas, r.Addr)
		}
	}
	t, err := topology.Single(replica, replicas)
	if err != nil {
		return
	}
	f.promoted.Store(&promotionSeen{from: master, to: replica, at: time.Now()})
	if c.cfg.Logger != nil {
		c.cfg.Logger.Info("redline: following a failover: the replica the Sentinels chose answers ROLE master", "from", master, "to", replica)
	}
	c.install(cur, t)
}

// promotedHold is how long after following a promotion a rediscovery naming the
// replaced master is checked against it (keepPromoted): the Sentinels name the promoted
// replica within a few seconds (INFO every second during a failover, hellos every
// 2s); past that, their confirmed answer is taken as at any other time.
const promotedHold = 10 * time.Second

// keepPromoted reports whether a rediscovery's table t must not be installed: it names
// the master of the last promotion followed, less than promotedHold ago, while the
// promoted replica still answers ROLE master (the Sentinels have not all caught up;
// the replaced master may still say master too until they demote it). p is that
// promotion as loaded before the asking.
func (c *Engine) keepPromoted(ctx context.Context, p *promotionSeen, t *topology.Table) bool {
	if p == nil || t.Slot(0) == nil || t.Slot(0).Primary.Addr != p.from || time.Since(p.at) >= promotedHold {
		return false
	}
	return c.checkCandidate(ctx, p.to, sentinelRoleWait) == nil
}
