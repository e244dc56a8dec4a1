package cluster

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/redline-go/redline/hashslot"
	"github.com/redline-go/redline/internal/cache"
	"github.com/redline-go/redline/internal/command"
	"github.com/redline-go/redline/internal/conn"
	"github.com/redline-go/redline/internal/rerr"
	"github.com/redline-go/redline/internal/topology"
	"github.com/redline-go/redline/resp"
)

// CacheConfig turns client-side caching on (see redline.CacheOptions).
type CacheConfig struct {
	// Store keeps the entries; its budget is the client's.
	Store *cache.Store
	// Broadcast tracks every key that starts with one of Prefixes (all keys when
	// none) instead of the keys read with CLIENT CACHING yes (OPTIN).
	Broadcast bool
	Prefixes  []string
}

// trackingCommand is the CLIENT TRACKING command of every shared connection.
func (cc *CacheConfig) trackingCommand() []string {
	if !cc.Broadcast {
		return []string{"CLIENT", "TRACKING", "on", "OPTIN"}
	}
	cmd := []string{"CLIENT", "TRACKING", "on", "BCAST"}
	for _, p := range cc.Prefixes {
		cmd = append(cmd, "PREFIX", p)
	}
	return cmd
}

// covers reports whether the server tracks key: always with OPTIN; with BCAST when it
// starts with one of the prefixes.
func (cc *CacheConfig) covers(key string) bool {
	if !cc.Broadcast || len(cc.Prefixes) == 0 {
		return true
	}
	for _, p := range cc.Prefixes {
		if strings.HasPrefix(key, p) {
			return true
		}
	}
	return false
}

// trackShared makes the shared connections of the node at addr tracking ones: CLIENT
// TRACKING at the handshake, invalidation pushes to the node's tracker, and its
// connection's loss recorded there (every entry read through it is dropped).
func (cc *CacheConfig) trackShared(addr string) func(o *conn.Options) {
	tr := cc.Store.Tracker(addr)
	cmd := cc.trackingCommand()
	return func(o *conn.Options) {
		o.Tracking = cmd
		push, closed := o.OnPush, o.OnClose
		o.OnPush = func(v resp.Value) {
			if !tr.OnPush(v) && push != nil {
				push(v)
			}
		}
		o.OnClose = func(c *conn.Conn, cause error) {
			tr.Lost()
			if closed != nil {
				closed(c, cause)
			}
		}
	}
}

// cacheMoved makes the entries of every slot whose primary differs between old and t
// stale (a MOVED, a resharding, a failover): they were tracked by the old primary.
func (c *Engine) cacheMoved(old, t *topology.Table) {
	cc := c.cfg.Cache
	if cc == nil || old == nil {
		return
	}
	for slot := range hashslot.Count {
		var a, b string
		if s := old.Slot(slot); s != nil {
			a = s.Primary.Addr
		}
		if s := t.Slot(slot); s != nil {
			b = s.Primary.Addr
		}
		if a != b {
			cc.Store.MoveSlot(slot)
		}
	}
}

// ErrNoCache is DoCache's error on a client without Options.Cache.
var ErrNoCache = errors.New("redline: client-side caching is off (Options.Cache.MaxBytes is 0)")

// NotCacheableError is DoCache's error for a command whose reply cannot be cached.
type NotCacheableError struct {
	Command string
	Reason  string
}

func (e *NotCacheableError) Error() string {
	return "redline: DoCache: " + e.Command + " cannot be cached: " + e.Reason
}

// cacheable returns why a command's reply cannot be cached, or nil.
func cacheable(info *command.Info, args []any) error {
	switch {
	case info == nil:
		return &NotCacheableError{Command: ArgString(args[0]), Reason: "unknown command"}
	case !info.ReadOnly():
		return &NotCacheableError{Command: info.Name, Reason: "not a read-only command"}
	case info.Nondeterministic && !orderOnly[info.Name]:
		return &NotCacheableError{Command: info.Name, Reason: "its reply is nondeterministic"}
	case info.Has(command.FlagBlocking), info.FansOut(), info.ConnState != command.ConnNone:
		return &NotCacheableError{Command: info.Name, Reason: "not a plain keyed read"}
	case scripts[info.Name]:
		return &NotCacheableError{Command: info.Name, Reason: "a script may read keys it does not declare (never invalidated) and return what differs between runs"}
	}
	return nil
}

// scripts are the read-only script and function calls: the server tracks every key
// they read, but the cache indexes only the declared ones, and nothing says their
// reply is deterministic (TIME, SRANDMEMBER inside).
var scripts = map[string]bool{"eval_ro": true, "evalsha_ro": true, "fcall_ro": true}

// orderOnly are the read-only commands whose tip is nondeterministic_output_order: the
// order of their reply may differ between runs, not its content, so a cached reply is
// as good as a new one. The command table merges both tips into Nondeterministic; these
// are Redis 7's (COMMAND, read-only with that tip).
var orderOnly = map[string]bool{"smembers": true, "hgetall": true, "hkeys": true, "hvals": true,
	"sinter": true, "sunion": true, "sdiff": true}

// sentNothingByDeadline reports whether err is a deadline that ended a call before it
// sent anything (its time was spent before: waiting for another caller's read).
func sentNothingByDeadline(err error) bool {
	de, ok := errors.AsType[*rerr.DeadlineError](err)
	if !ok {
		return false
	}
	ne, ok := errors.AsType[*rerr.NodeError](de)
	return ok && ne.Phase == rerr.PhaseWrite && !ne.Written
}

// errWaitedForFlight is what a cached read that ended waiting for another caller's
// read of the same command waited for.
var errWaitedForFlight = errors.New("no reply yet to another caller's read of the same command, which this one waited for (a cached read in flight)")

// cachingYes makes the next command's keys tracked (OPTIN).
var cachingYes = []any{"CLIENT", "CACHING", "yes"}

// maxCacheKey is the longest lookup key built on the stack; longer ones allocate.
const maxCacheKey = 256

// DoCache is Do for a read-only command whose reply may be served from the client's
// cache for up to ttl (capped by its keys' own TTLs): a hit returns at once, without
// allocating; a miss reads it from the slot's primary with its keys tracked and
// caches the reply unless an invalidation came first. hit reports a hit. A command
// that cannot be cached fails with *NotCacheableError.
func (c *Engine) DoCache(ctx context.Context, ttl time.Duration, args []any, tr *Trace) (r Reply, hit bool) {
	if c.closed.Load() {
		return Reply{err: rerr.ErrClosed}, false
	}
	cc := c.cfg.Cache
	if cc == nil {
		return Reply{err: ErrNoCache}, false
	}
	if ttl <= 0 {
		return Reply{err: errors.New("redline: DoCache: the TTL must be positive")}, false
	}
	var buf [maxCacheKey]byte
	key, keyable := cache.AppendKey(buf[:0], args)
	if keyable {
		if v, st, _ := cc.Store.Get(key); st == cache.Hit {
			tr.Slot, tr.Attempts = -1, 0
			return Reply{val: v}, true
		}
	}
	return c.doCacheMiss(ctx, cc, ttl, args, key, keyable, tr)
}

// doCacheMiss is DoCache's miss: the read, tracked, and the reply cached.
func (c *Engine) doCacheMiss(ctx context.Context, cc *CacheConfig, ttl time.Duration, args []any, key []byte, keyable bool, tr *Trace) (Reply, bool) {
	w := c.Waiter(ctx)
	defer w.Release()
	info, err := c.lookup(&w, args)
	if err != nil {
		return Reply{err: err}, false
	}
	if err := cacheable(info, args); err != nil {
		return Reply{err: err}, false
	}
	tr.info, tr.Slot, tr.Attempts = info, -1, 1
	slot, err := c.SlotOf(info, args)
	if err != nil {
		return Reply{err: err}, false
	}
	if slot < 0 {
		return Reply{err: &NotCacheableError{Command: info.Name, Reason: "it reads no key"}}, false
	}
	tr.Slot = slot
	var kbuf [8]int
	idx, _ := info.KeyIndexes(args, kbuf[:0])
	keys := make([]string, len(idx))
	for i, j := range idx {
		keys[i] = strings.Clone(ArgString(args[j]))
		if !cc.covers(keys[i]) {
			keyable = false // not tracked by the server: never cached
		}
	}
	n, err := c.pick(slot, false, nil)
	rn, real := n.(realNode)
	if !keyable || err != nil || !real {
		return c.doSlot(&w, info, slot, args, tr), false
	}
	f, leader := cc.Store.Begin(key, keys, slot, cc.Store.Tracker(n.Addr()))
	if !leader {
		// Another caller is reading it (single flight): wait for its reply, within
		// this call's deadline; if it was not cached after all, read it uncached.
		select {
		case <-f.Done():
			if v, ok := cc.Store.Value(f); ok {
				tr.Attempts = 0
				return Reply{val: v}, true
			}
			if !w.Done() {
				rep := c.doSlot(&w, info, slot, args, tr)
				if !sentNothingByDeadline(rep.err) {
					return rep, false
				}
			}
			// The other caller's read ended with this call's deadline (theirs came a
			// moment before): what this call waited for was that read's reply.
		case <-w.Ctx().Done():
		case <-w.Expired():
		}
		return Reply{err: w.DeadlineErr(&rerr.NodeError{Addr: n.Addr(), Phase: rerr.PhaseRead, Err: errWaitedForFlight})}, false
	}
	cn, err := rn.Node.Conn(&w)
	if err != nil {
		cc.Store.Abort(f)
		return c.doSlot(&w, info, slot, args, tr), false
	}
	// A copy of args goes into the pipeline: the caller's stay on its stack (a hit
	// allocates nothing; a miss may).
	cp, err := resp.CloneArgs(args)
	if err != nil {
		cc.Store.Abort(f)
		return Reply{err: err}, false
	}
	cmds := make([][]any, 0, 2+len(keys))
	if !cc.Broadcast {
		cmds = append(cmds, cachingYes)
	}
	cmds = append(cmds, cp)
	for _, k := range keys {
		cmds = append(cmds, []any{"PTTL", k})
	}
	vals, err := cn.ExecMulti(&w, cmds)
	tr.node = n
	if _, ok := errors.AsType[*rerr.DeadlineError](err); ok {
		cc.Store.Abort(f)
		return Reply{err: err}, false // what the call waited for, as the router would say it
	}
	off := len(cmds) - len(keys) - 1 // the read's reply
	if err == nil && vals[0].Err == nil && vals[off].Err != nil && !routed(vals[off].Err) {
		cc.Store.Abort(f) // the read's own error (WRONGTYPE…): the answer, not cached
		return Reply{val: vals[off]}, false
	}
	if err != nil || vals[0].Err != nil || vals[off].Err != nil {
		// A redirect, a retry, a refusal of CLIENT CACHING, a transport failure: the
		// router's rules decide (a read is safe to send again); nothing is cached.
		cc.Store.Abort(f)
		return c.doSlot(&w, info, slot, args, tr), false
	}
	for _, p := range vals[off+1:] {
		switch {
		case p.Err != nil || p.Type != resp.TypeInteger:
			ttl = 0 // the key's TTL is unknown (a slot moving between the two?): not cached
		case p.Int == -2:
			// No such key: not cached. Only this node tracks the name; if the slot
			// migrates, the key is created on the target (ASK) and no invalidation
			// would reach this client, which keeps routing to the old owner until a
			// MOVED of its own. An existing key is safe: its migration deletes it here.
			ttl = 0
		case p.Int >= 0: // -1: no expiry
			ttl = min(ttl, time.Duration(p.Int)*time.Millisecond)
		}
	}
	cc.Store.Fill(f, vals[off], ttl)
	return Reply{val: vals[off]}, false
}

// routed reports whether an error reply is one doSlot acts on (a redirect, or a state
// it retries) rather than the command's own answer.
func routed(e *resp.Error) bool {
	return e.IsMoved() || e.IsAsk() || e.IsRetryable() || e.Code == "LOADING"
}

// cacheWrote drops the entries of the keys a write through Do touched, once it
// returned: the server sends the invalidation of a client's own write after the
// write's reply, and a read right after the write must not find the old value still
// cached. A FLUSHALL or FLUSHDB drops every entry. (Writes in DoMulti and transactions
// wait for the server's invalidation, which follows their replies at once.)
func (c *Engine) cacheWrote(info *command.Info, args []any) {
	st := c.cfg.Cache.Store
	var kbuf [8]int
	idx, _ := info.KeyIndexes(args, kbuf[:0])
	for _, i := range idx {
		st.InvalidateString(ArgString(args[i]))
	}
	if len(idx) == 0 && (info.Name == "flushall" || info.Name == "flushdb") {
		st.FlushAll()
	}
}

// CacheCounters returns the cache's figures; false when caching is off.
func (c *Engine) CacheCounters() (cache.Counters, bool) {
	if c.cfg.Cache == nil {
		return cache.Counters{}, false
	}
	return c.cfg.Cache.Store.Counters(), true
}

// CacheHas reports whether a DoCache of args would be a hit now (nothing is sent or
// counted).
func (c *Engine) CacheHas(args []any) bool {
	cc := c.cfg.Cache
	if cc == nil {
		return false
	}
	var buf [maxCacheKey]byte
	key, ok := cache.AppendKey(buf[:0], args)
	return ok && cc.Store.Has(key)
}
