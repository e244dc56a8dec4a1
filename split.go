package redline

import (
	"context"
	"fmt"
	"reflect"
	"sync"

	"github.com/redline-go/redline/internal/command"
	"github.com/redline-go/redline/internal/conn"
	"github.com/redline-go/redline/resp"
)

// split runs a multi-key command whose keys span several slots (MGET, MSET, DEL,
// UNLINK, EXISTS, TOUCH: request policy multi_shard) as one sub-command per slot, sent
// in parallel, each redirected on its own, merged in the caller's key order. It
// reports false when the keys share a slot (the command then goes as it is).
func (c *Client) split(ctx context.Context, info *command.Info, args []any) (Result, bool) {
	idx, _ := info.KeyIndexes(args, make([]int, 0, 16))
	if len(idx) < 2 {
		return Result{}, false
	}
	first, step := idx[0], 1
	if len(idx) > 1 {
		step = idx[1] - idx[0]
	}
	// Only a uniform layout — name, then key groups of equal width to the end — can be
	// split safely.
	if step < 1 || len(args) != first+step*len(idx) {
		return Result{}, false
	}
	for i, k := range idx {
		if k != first+i*step {
			return Result{}, false
		}
	}
	type group struct {
		keys []int // positions (in key order) of this slot's keys
		args []any
	}
	bySlot := map[int]*group{}
	var order []int
	for i, k := range idx {
		s := argSlot(args[k])
		g := bySlot[s]
		if g == nil {
			prefix, err := cloneArgs(args[:first])
			if err != nil {
				return Result{err: err}, true
			}
			g = &group{args: prefix}
			bySlot[s] = g
			order = append(order, s)
		}
		g.keys = append(g.keys, i)
		for j, a := range args[k : k+step] {
			c, ok := cloneArg(a)
			if !ok {
				return Result{err: fmt.Errorf("redline: argument %d has unsupported type %s", k+j, reflect.TypeOf(a))}, true
			}
			g.args = append(g.args, c)
		}
	}
	if len(order) == 1 {
		return Result{}, false
	}
	ctx, cancel := c.deriveCtx(ctx)
	defer cancel()
	results := make([]Result, len(order))
	var wg sync.WaitGroup
	for i, s := range order {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w := conn.NewWaiter(ctx, timeZero)
			defer w.Release()
			var tr callTrace
			results[i] = c.doSlot(&w, info, s, bySlot[s].args, &tr)
		}()
	}
	wg.Wait()
	for _, r := range results {
		if r.Err() != nil {
			return r, true
		}
	}
	switch info.Response {
	case command.ResponseAggSum, command.ResponseAggMin, command.ResponseAggMax:
		return aggregateInts(info.Response, results), true
	case command.ResponseAllSucceeded, command.ResponseOneSucceeded:
		return results[0], true
	}
	// MGET: put each slot's values back at their keys' positions.
	out := resp.Value{Type: resp.TypeArray, Elems: make([]resp.Value, len(idx))}
	for i, s := range order {
		v := results[i].val
		g := bySlot[s]
		if !isList(v) || len(v.Elems) != len(g.keys) {
			return Result{err: typeErr(v, "an array with one element per key")}, true
		}
		for j, pos := range g.keys {
			out.Elems[pos] = v.Elems[j]
		}
	}
	return Result{val: out}, true
}
