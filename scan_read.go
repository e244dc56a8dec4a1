package redline

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/redline-go/redline/internal/cluster"
	"github.com/redline-go/redline/resp"
)

// maxScanWidth bounds the slots one step of a scan reads (the commands of its pipeline).
const maxScanWidth = 1024

// errScanRestart says a step completed no slot: every slot it read must be read again
// elsewhere (their owner changed meanwhile).
var errScanRestart = errors.New("redline: Scan: the slots' owner kept changing while they were read")

// read runs one step: it reads slots from addr, their owner as far as the iterator
// knows, and from the target of any of them the owner is migrating; it leaves the keys
// of the slots read completely in it.buf and queues the others to be read again. It
// returns how many slots it completed or will ask more keys of next time (progress);
// on an error, none (all are queued again).
func (it *ScanIterator) read(ctx context.Context, addr string, slots []int) (int, error) {
	if addr == "" {
		it.redo = append(it.redo, slots...)
		return 0, cluster.ErrUncovered(slots[0])
	}
	done, grown, keys, again, err := it.readFrom(ctx, addr, slots)
	if err == nil {
		keys, err = it.ofType(ctx, keys)
	}
	if err != nil {
		it.redo = append(it.redo, slots...)
		return 0, err
	}
	if len(it.hint)+len(it.count) > 0 { // forget what was learned about the slots done
		for _, s := range slots {
			if !slices.Contains(again, s) {
				delete(it.hint, s)
				delete(it.count, s)
			}
		}
	}
	it.redo = append(it.redo, again...)
	it.buf = keys
	if done+grown == 0 {
		return 0, errScanRestart
	}
	return done + grown, nil
}

// readFrom reads the slots: the owner's snapshot of each, then its own view (CLUSTER
// NODES) in the same pipeline, after them; then, for the slots it is migrating, the
// target's snapshot. It returns the number of slots read completely, their keys that
// match the pattern, and the slots to read again (grown: those because they hold more
// keys than were asked for).
func (it *ScanIterator) readFrom(ctx context.Context, addr string, slots []int) (done, grown int, keys []string, again []int, err error) {
	cmds := make([][]any, 0, len(slots)+1)
	for _, s := range slots {
		cmds = append(cmds, []any{"CLUSTER", "GETKEYSINSLOT", s, it.countFor(s)})
	}
	cmds = append(cmds, []any{"CLUSTER", "NODES"})
	vs, err := it.c.pipelineTo(ctx, addr, cmds)
	if err != nil {
		return 0, 0, nil, nil, err
	}
	view, err := nodeViewOf(vs[len(vs)-1])
	if err != nil {
		return 0, 0, nil, nil, fmt.Errorf("redline: Scan: %s: %w", addr, err)
	}
	got := make([][]string, len(slots)) // the matching keys of each slot
	ok := make([]bool, len(slots))
	read := 0                   // keys read, matching or not
	var moving map[string][]int // target address → indexes of the slots moving there
	restarted := false
	for i, s := range slots {
		if !view.owns(s) { // its migration finished, or the node was failed over
			restarted = true
			it.learnOwner(s, view)
			again = append(again, s)
			continue
		}
		k, n, err := slotKeys(vs[i], it.match)
		if err != nil {
			return 0, 0, nil, nil, fmt.Errorf("redline: Scan: %s: CLUSTER GETKEYSINSLOT %d: %w", addr, s, err)
		}
		read += n
		if n >= it.countFor(s) {
			it.grow(s)
			grown++
			again = append(again, s)
			continue
		}
		if id, migrating := view.migrate[s]; migrating {
			to := it.c.addrOfID(id, view)
			if to == "" {
				it.c.e.TriggerRefresh()
				again = append(again, s)
				continue
			}
			if moving == nil {
				moving = map[string][]int{}
			}
			moving[to] = append(moving[to], i)
		}
		got[i], ok[i] = k, true
	}
	if restarted {
		it.restarts++
		if it.denied == nil {
			it.denied, it.deniedIn = map[string]*nodeView{}, it.c.e.Topology()
		}
		it.denied[addr] = view // the next steps go where it says (until a new topology)
	}
	for to, idx := range moving { // after the source: keys only move source → target
		cmds := make([][]any, len(idx))
		for j, i := range idx {
			cmds[j] = []any{"CLUSTER", "GETKEYSINSLOT", slots[i], it.countFor(slots[i])}
		}
		vs, err := it.c.pipelineTo(ctx, to, cmds)
		if err != nil {
			return 0, 0, nil, nil, err
		}
		for j, i := range idx {
			k, n, err := slotKeys(vs[j], it.match)
			if err != nil {
				return 0, 0, nil, nil, fmt.Errorf("redline: Scan: %s: CLUSTER GETKEYSINSLOT %d: %w", to, slots[i], err)
			}
			read += n
			if n >= it.countFor(slots[i]) {
				it.grow(slots[i])
				grown++
				again = append(again, slots[i])
				ok[i] = false
				continue
			}
			got[i] = union(got[i], k)
			it.fromTarget++
		}
	}
	for i := range slots {
		if ok[i] {
			done++
			keys = append(keys, got[i]...)
		}
	}
	it.adapt(done, read)
	return done, grown, keys, again, nil
}

// countFor returns how many keys to ask for in slot s.
func (it *ScanIterator) countFor(s int) int {
	if n, ok := it.count[s]; ok {
		return n
	}
	return max(it.target, 256)
}

// grow asks for four times more keys in slot s next time: it held as many as asked
// for, so maybe more. (Redis 6 allocates the count asked for up front: it grows in
// steps rather than asking for everything at once.)
func (it *ScanIterator) grow(s int) {
	if it.count == nil {
		it.count = map[int]int{}
	}
	it.count[s] = 4 * it.countFor(s)
}

// adapt sets the width of the next step so that it reads about target keys, judging
// by the keys per slot of this one; it at most doubles from step to step.
func (it *ScanIterator) adapt(slots, keys int) {
	if slots == 0 {
		return
	}
	w := 2 * it.width
	if keys > 0 {
		w = min(w, slots*it.target/keys)
	}
	it.width = max(1, min(w, maxScanWidth))
}

// learnOwner records who serves slot in view, for the slot's next read; without an
// answer the topology decides, and is refreshed.
func (it *ScanIterator) learnOwner(slot int, view *nodeView) {
	if addr := it.c.addrOfID(view.owner(slot), view); addr != "" {
		if it.hint == nil {
			it.hint = map[int]string{}
		}
		it.hint[slot] = addr
	} else {
		delete(it.hint, slot)
	}
	it.c.e.TriggerRefresh()
}

// addrOfID returns the client address of the node with the given ID: as the topology
// has it, else as view has it; "" when neither knows it.
func (c *Client) addrOfID(id string, view *nodeView) string {
	if id == "" {
		return ""
	}
	if a, ok := view.addrs[id]; ok {
		return a
	}
	a := view.addr(id)
	for _, n := range c.e.Topology().Nodes() {
		if n.ID == id {
			a = n.Addr
			break
		}
	}
	if view.addrs == nil {
		view.addrs = map[string]string{}
	}
	view.addrs[id] = a
	return a
}

// nodeViewOf parses a CLUSTER NODES reply.
func nodeViewOf(v resp.Value) (*nodeView, error) {
	if v.Err != nil {
		return nil, fmt.Errorf("CLUSTER NODES: %w", v.Err)
	}
	switch v.Type {
	case resp.TypeBulkString, resp.TypeVerbatim, resp.TypeSimpleString:
		return parseNodeView(v.Str)
	}
	return nil, fmt.Errorf("CLUSTER NODES: got %s, want a string", v.Type)
}

// slotKeys returns the keys of a GETKEYSINSLOT reply that match the pattern (all for
// ""), and how many keys the reply holds (as many as were asked for: the slot may hold
// more).
func slotKeys(v resp.Value, match string) ([]string, int, error) {
	if v.Err != nil {
		return nil, 0, v.Err
	}
	if v.Type != resp.TypeArray && v.Type != resp.TypeSet {
		return nil, 0, fmt.Errorf("got %s, want an array of keys", v.Type)
	}
	keys := make([]string, 0, len(v.Elems))
	for _, e := range v.Elems {
		if e.Type != resp.TypeBulkString {
			return nil, 0, fmt.Errorf("got a %s key", e.Type)
		}
		if match == "" || globMatch(match, e.Str) {
			keys = append(keys, string(e.Str))
		}
	}
	return keys, len(v.Elems), nil
}

// union returns a followed by the keys of b not in a.
func union(a, b []string) []string {
	if len(b) == 0 {
		return a
	}
	in := make(map[string]struct{}, len(a))
	for _, k := range a {
		in[k] = struct{}{}
	}
	for _, k := range b {
		if _, dup := in[k]; !dup {
			a = append(a, k)
		}
	}
	return a
}

// pipelineTo sends cmds to the node at addr as one pipeline, in order, within ctx and
// CommandTimeout.
func (c *Client) pipelineTo(ctx context.Context, addr string, cmds [][]any) ([]resp.Value, error) {
	if c.e.Closed() {
		return nil, ErrClosed
	}
	ctx, cancel := c.e.DeriveCtx(ctx)
	defer cancel()
	w := cluster.NewWaiter(ctx, time.Time{})
	defer w.Release()
	return cluster.ExecMultiOn(c.e.NodeAt(addr), &w, cmds)
}

// retryableScanErr reports whether a failed step is worth trying again: the node
// failed or timed out, the server asked to retry, no node served a slot, or the slots'
// owner kept changing.
func retryableScanErr(err error) bool {
	var re *resp.Error
	if errors.As(err, &re) {
		return re.IsRetryable()
	}
	var ne *NodeError
	var de *DeadlineError
	var unc cluster.ErrUncovered
	return errors.As(err, &ne) || errors.As(err, &de) || errors.As(err, &unc) || errors.Is(err, errScanRestart)
}
