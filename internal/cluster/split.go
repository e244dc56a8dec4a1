package cluster

import (
	"context"
	"sync"
	"time"

	"github.com/redline-go/redline/internal/command"
	"github.com/redline-go/redline/internal/conn"
	"github.com/redline-go/redline/resp"
)

// splitGroup is one slot's part of a split command: its keys' positions (in key order)
// and the sub-command that carries them.
type splitGroup struct {
	slot int
	keys []int
	args []any
}

// splitPlan divides a multi-key command whose keys span several slots (MGET, MSET, DEL,
// UNLINK, EXISTS, TOUCH: request policy multi_shard) into one sub-command per slot, in
// the order the slots first appear. It reports false when the command is not split: its
// keys share a slot, or its layout is not name-then-equal-key-groups. The sub-commands'
// arguments are copies (they may outlive the caller's frame).
func splitPlan(info *command.Info, args []any) ([]*splitGroup, bool, error) {
	idx, _ := info.KeyIndexes(args, make([]int, 0, 16))
	if len(idx) < 2 {
		return nil, false, nil
	}
	first, step := idx[0], idx[1]-idx[0]
	// Only a uniform layout — name, then key groups of equal width to the end — can be
	// split safely.
	if step < 1 || len(args) != first+step*len(idx) {
		return nil, false, nil
	}
	for i, k := range idx {
		if k != first+i*step {
			return nil, false, nil
		}
	}
	if err := resp.CheckArgs(args); err != nil { // before copying: the error names the argument
		return nil, true, err
	}
	bySlot := map[int]*splitGroup{}
	var groups []*splitGroup
	for i, k := range idx {
		s := ArgSlot(args[k])
		g := bySlot[s]
		if g == nil {
			prefix, err := resp.CloneArgs(args[:first])
			if err != nil {
				return nil, true, err
			}
			g = &splitGroup{slot: s, args: prefix}
			bySlot[s] = g
			groups = append(groups, g)
		}
		g.keys = append(g.keys, i)
		part, err := resp.CloneArgs(args[k : k+step])
		if err != nil {
			return nil, true, err
		}
		g.args = append(g.args, part...)
	}
	if len(groups) == 1 {
		return nil, false, nil
	}
	return groups, true, nil
}

// splits reports whether a splittable command (info.Splittable) is split when its keys
// span several slots, as Config.Split says; if not, such a command fails with
// *CrossSlotError before anything is sent.
func (c *Engine) splits(info *command.Info) bool {
	if c.single {
		return false // one server: sent whole, as the caller wrote it
	}
	switch c.cfg.Split {
	case SplitAll:
		return true
	case SplitReads:
		return info.ReadOnly()
	}
	return false
}

// split runs a multi-key command whose keys span several slots as one sub-command per
// slot (see splitPlan), sent in parallel, each redirected on its own, merged in the
// caller's key order. It reports false when the command is not split (it then goes as
// it is).
func (c *Engine) split(ctx context.Context, info *command.Info, args []any, tr *Trace) (Reply, bool) {
	groups, ok, err := splitPlan(info, args)
	if err != nil {
		return Reply{err: err}, true
	}
	if !ok {
		return Reply{}, false
	}
	ctx, cancel := c.DeriveCtx(ctx)
	defer cancel()
	results := make([]Reply, len(groups))
	traces := make([]Trace, len(groups))
	var wg sync.WaitGroup
	for i, g := range groups {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w := conn.NewWaiter(ctx, time.Time{})
			defer w.Release()
			results[i] = c.doSlot(&w, info, g.slot, g.args, &traces[i])
		}()
	}
	wg.Wait()
	tr.addParts(traces)
	return mergeSplit(info, groups, results), true
}

// mergeSplit combines the results of a split command's parts: a *SplitError when any
// part failed (the others may have been applied: it says which), else the aggregate of
// counts, or (MGET) each slot's values put back at their keys' positions.
func mergeSplit(info *command.Info, groups []*splitGroup, results []Reply) Reply {
	for _, r := range results {
		if r.Err() != nil {
			return Reply{err: splitErr(info, groups, results)}
		}
	}
	switch info.Response {
	case command.ResponseAggSum, command.ResponseAggMin, command.ResponseAggMax:
		return aggregateInts(info.Response, results)
	case command.ResponseAllSucceeded, command.ResponseOneSucceeded:
		return results[0]
	}
	n := 0
	for _, g := range groups {
		n += len(g.keys)
	}
	out := resp.Value{Type: resp.TypeArray, Elems: make([]resp.Value, n)}
	for i, g := range groups {
		v := results[i].val
		if !v.IsList() || len(v.Elems) != len(g.keys) {
			return Reply{err: resp.TypeErr(v, "an array with one element per key")}
		}
		for j, pos := range g.keys {
			out.Elems[pos] = v.Elems[j]
		}
	}
	return Reply{val: out}
}
