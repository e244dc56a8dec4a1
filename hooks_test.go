package redline

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redline-go/redline/hashslot"
	"github.com/redline-go/redline/redistest"
	"github.com/redline-go/redline/resp"
)

// hookLog records every hook call of a client.
type hookLog struct {
	mu     sync.Mutex
	starts []CommandStart
	ends   []CommandEnd
	dials  []DialInfo
	states []NodeStateChange
	topos  []TopologyChange
	ctxOK  bool // AfterCommand always got BeforeCommand's context
	change chan struct{}
}

type hookCtxKey struct{}

func newHookLog() *hookLog { return &hookLog{ctxOK: true, change: make(chan struct{}, 1)} }

func (l *hookLog) hooks() Hooks {
	note := func(f func()) {
		l.mu.Lock()
		f()
		l.mu.Unlock()
		select {
		case l.change <- struct{}{}:
		default:
		}
	}
	return Hooks{
		BeforeCommand: func(ctx context.Context, cs CommandStart) context.Context {
			note(func() { l.starts = append(l.starts, cs) })
			return context.WithValue(ctx, hookCtxKey{}, cs)
		},
		AfterCommand: func(ctx context.Context, ce CommandEnd) {
			note(func() {
				if ctx.Value(hookCtxKey{}) != ce.CommandStart {
					l.ctxOK = false
				}
				l.ends = append(l.ends, ce)
			})
		},
		OnDial:      func(d DialInfo) { note(func() { l.dials = append(l.dials, d) }) },
		OnNodeState: func(s NodeStateChange) { note(func() { l.states = append(l.states, s) }) },
		OnTopology:  func(tc TopologyChange) { note(func() { l.topos = append(l.topos, tc) }) },
	}
}

// lastEnd returns the last AfterCommand record.
func (l *hookLog) lastEnd(t *testing.T) CommandEnd {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.ends) == 0 {
		t.Fatal("AfterCommand was never called")
	}
	return l.ends[len(l.ends)-1]
}

// await waits until cond (called under the log's lock) holds.
func (l *hookLog) await(t *testing.T, ctx context.Context, what string, cond func() bool) {
	t.Helper()
	for {
		l.mu.Lock()
		ok := cond()
		l.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-l.change:
		case <-ctx.Done():
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// TestHooks checks every hook's fields on a real cluster: commands (success, error
// reply, pipeline), a MOVED after a slot moved, a dial failure with its phase and
// cause, a node going down and coming back — and Stats following along.
func TestHooks(t *testing.T) {
	cl := redistest.Shared(t, "hooks", redistest.Config{Masters: 3}) // its own: a slot moves, a node is refused
	ctx := t.Context()
	topo, err := cl.Topology(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ms := topo.Masters()
	a, b, m3 := ms[0].Node, ms[1].Node, ms[2].Node
	log := newHookLog()
	c := newTestClient(t, cl, Options{Addrs: []string{a.Addr()}, Hooks: log.hooks(), RefreshInterval: -1})

	// The first topology.
	log.mu.Lock()
	if len(log.topos) != 1 || log.topos[0].Cause != "refresh" || log.topos[0].Epoch != 1 || log.topos[0].Shards != 3 ||
		log.topos[0].Nodes != 3 || len(log.topos[0].Added) != 3 || log.topos[0].SlotsMoved != hashslot.Count {
		t.Errorf("first topology: %+v", log.topos)
	}
	if len(log.dials) != 1 || log.dials[0].Addr != a.Addr() || log.dials[0].Err != nil || log.dials[0].Phase != "" {
		t.Errorf("dials after NewClient: %+v (want one, to the seed, successful)", log.dials)
	}
	log.mu.Unlock()

	// A command: its node, slot and attempts.
	kb := cl.KeyOn(t, b, "hook")
	sb := hashslot.Key(kb)
	if err := c.Do(ctx, "SET", kb, "v").Err(); err != nil {
		t.Fatal(err)
	}
	if e := log.lastEnd(t); e.Name != "set" || e.Commands != 1 || e.Node != b.Addr() || e.Slot != sb ||
		e.Attempts != 1 || e.Redirects != 0 || e.Err != nil || e.Elapsed <= 0 {
		t.Errorf("SET: %+v", e)
	}
	// An error reply is the event's error.
	c.Do(ctx, "INCR", kb)
	var re *resp.Error
	if e := log.lastEnd(t); e.Name != "incr" || !errors.As(e.Err, &re) || re.Code != "ERR" {
		t.Errorf("INCR of a string: %+v", e)
	}
	// A pipeline is one event.
	c.DoMulti(ctx, Cmd("GET", kb), Cmd("GET", "other"))
	if e := log.lastEnd(t); e.Name != "pipeline" || e.Commands != 2 || e.Slot != -1 || e.Err != nil {
		t.Errorf("DoMulti: %+v", e)
	}
	// A keyless command goes to one node; one for all shards to several.
	c.Do(ctx, "ECHO", "x")
	if e := log.lastEnd(t); e.Name != "echo" || e.Slot != -1 || e.Node == "" || e.Attempts != 1 {
		t.Errorf("ECHO: %+v", e)
	}
	c.Do(ctx, "PING")
	if e := log.lastEnd(t); e.Name != "ping" || e.Slot != -1 || e.Node != "" || e.Attempts != 1 || e.Err != nil {
		t.Errorf("PING (all shards): %+v", e)
	}

	// A second client, whose pipeline will meet the MOVED below.
	plog := newHookLog()
	c2 := newTestClient(t, cl, Options{Addrs: []string{a.Addr()}, Hooks: plog.hooks(), RefreshInterval: -1})

	// A slot moves behind the client's back: the next call follows MOVED.
	if err := cl.MigrateSlot(ctx, sb, m3); err != nil {
		t.Fatal(err)
	}
	if v, err := c.Do(ctx, "GET", kb).Text(); err != nil || v != "v" {
		t.Fatalf("GET after the slot moved: %q %v", v, err)
	}
	if e := log.lastEnd(t); e.Node != m3.Addr() || e.Attempts != 2 || e.Redirects != 1 || e.Asks != 0 || e.Err != nil {
		t.Errorf("GET after MOVED: %+v", e)
	}
	log.mu.Lock()
	var moved *TopologyChange
	for i := range log.topos {
		if log.topos[i].Cause == "moved" {
			moved = &log.topos[i]
		}
	}
	if moved == nil || moved.Source != m3.Addr() || moved.SlotsMoved != 1 || moved.Epoch < 2 {
		t.Errorf("topology change for MOVED: %+v", moved)
	}
	log.mu.Unlock()
	rs := c2.DoMulti(ctx, Cmd("GET", kb), Cmd("ECHO", "x"))
	if v, err := rs[0].Text(); err != nil || v != "v" {
		t.Fatalf("pipelined GET after the slot moved: %q %v", v, err)
	}
	if e := plog.lastEnd(t); e.Name != "pipeline" || e.Redirects != 1 || e.Asks != 0 || e.Attempts != 2 || e.Err != nil {
		t.Errorf("pipeline meeting MOVED: %+v", e)
	}
	if st := c.Stats(); st.Moved == 0 || st.TopologyEpoch < 2 || st.Shards != 3 || st.CoveredSlots != hashslot.Count {
		t.Errorf("Stats after MOVED: %+v", st)
	}

	// m3 refuses connections: its connection is closed, the next call's dial fails,
	// the node goes down; back to Pass, it comes back up by itself.
	if err := m3.SetFault(redistest.Refuse); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m3.SetFault(redistest.Pass) })
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) { // until a call meets the refusal (the old connection may take a moment to close)
		cctx, cancel := context.WithTimeout(ctx, time.Second)
		err := c.Do(cctx, "GET", kb).Err()
		cancel()
		var ne *NodeError
		if errors.As(err, &ne) && ne.Phase == PhaseDial {
			break
		}
	}
	log.await(t, ctx, "a failed dial to the refusing node and its down state", func() bool {
		failed, down := false, false
		for _, d := range log.dials {
			if d.Addr == m3.Addr() && d.Phase == PhaseDial && d.Err != nil && strings.Contains(d.Err.Error(), "refused") {
				failed = true
			}
		}
		for _, s := range log.states {
			if s.Addr == m3.Addr() && s.To == NodeDown && s.Err != nil && s.Attempt >= 1 && !s.NextRetry.IsZero() {
				down = true
			}
		}
		return failed && down
	})
	ns := nodeStats(c, m3.Addr())
	if ns.State != NodeDown || ns.LastError == nil || !strings.Contains(ns.LastError.Error(), "refused") ||
		ns.DialFailures == 0 || ns.DownSince.IsZero() || ns.Role != "primary" {
		t.Errorf("Stats of the refusing node: %+v", ns)
	}

	if err := m3.SetFault(redistest.Pass); err != nil {
		t.Fatal(err)
	}
	log.await(t, ctx, "the node back up", func() bool {
		s := log.states
		return len(s) > 0 && s[len(s)-1].Addr == m3.Addr() && s[len(s)-1].To == NodeUp
	})
	if ns := nodeStats(c, m3.Addr()); ns.State != NodeUp || ns.Conns != 1 || ns.Dials < 2 {
		t.Errorf("Stats of the node back up: %+v", ns)
	}
	if err := c.Do(ctx, "GET", kb).Err(); err != nil {
		t.Fatalf("GET after the node came back: %v", err)
	}

	log.mu.Lock()
	defer log.mu.Unlock()
	if len(log.starts) != len(log.ends) || !log.ctxOK {
		t.Errorf("%d BeforeCommand, %d AfterCommand calls, context passed through: %v", len(log.starts), len(log.ends), log.ctxOK)
	}
}

func nodeStats(c *Client, addr string) NodeStats {
	for _, ns := range c.Stats().Nodes {
		if ns.Addr == addr {
			return ns
		}
	}
	return NodeStats{}
}

// TestHooksTx checks the transaction event.
func TestHooksTx(t *testing.T) {
	cl := plain(t)
	ctx := t.Context()
	log := newHookLog()
	c := newTestClient(t, cl, Options{Hooks: log.hooks()})
	err := c.Watch(ctx, func(tx *Tx) error {
		_, err := tx.Exec(ctx, Cmd("SET", "{hooktx}a", 1), Cmd("INCR", "{hooktx}a"))
		return err
	}, "{hooktx}a")
	if err != nil {
		t.Fatal(err)
	}
	e := log.lastEnd(t)
	if e.Name != "multi" || e.Commands != 2 || e.Slot != hashslot.Key("{hooktx}a") || e.Node == "" || e.Err != nil {
		t.Errorf("transaction event: %+v", e)
	}
}
