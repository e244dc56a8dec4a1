package redline

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/redline-go/redline/hashslot"
	"github.com/redline-go/redline/internal/cluster"
	"github.com/redline-go/redline/resp"
)

// This file asks the primaries for CLUSTER SLOT-STATS and merges their replies
// (cluster_slot_stats.go has the methods).

// slotStats sends args to the nodes at addrs at once, within the call's deadline, and
// returns the slots they report in the given order (once each: a slot two nodes
// report, while it moves, is the one the topology's owner reported), and an error
// naming every node that failed. The command hooks see it as one call.
func (c *Client) slotStats(ctx context.Context, addrs []string, args []any, order func(a, b *SlotStats) int) (stats []SlotStats, err error) {
	if c.e.Closed() {
		return nil, ErrClosed
	}
	if !c.hooked {
		return c.slotStatsFrom(ctx, addrs, args, order)
	}
	c.aroundCommand(ctx, CommandStart{Name: "cluster|slot-stats", Commands: 1}, func(end *CommandEnd) {
		stats, err = c.slotStatsFrom(ctx, addrs, args, order)
		end.Err = err
	})
	return stats, err
}

// slotStatsFrom is slotStats without the hooks. Each node's list is put in order as
// it arrives (a server sends it in order: checked in linear time), so that what
// remains once all have answered, or the deadline passed, is a linear merge: with
// 16,384 slots a sort then would take milliseconds past the deadline.
func (c *Client) slotStatsFrom(ctx context.Context, addrs []string, args []any, order func(a, b *SlotStats) int) ([]SlotStats, error) {
	ctx, cancel := c.e.DeriveCtx(ctx)
	defer cancel()
	per := make([][]SlotStats, len(addrs))
	errs := make([]error, len(addrs))
	var wg sync.WaitGroup
	for i, addr := range addrs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			v, err := cluster.DoOn(ctx, c.e.NodeAt(addr), args...)
			if err == nil && v.Err != nil {
				err = v.Err
			}
			if err == nil {
				if per[i], err = decodeSlotStats(v); err != nil {
					err = fmt.Errorf("redline: CLUSTER SLOT-STATS reply from %s: %w", addr, err)
				} else if !slices.IsSortedFunc(per[i], valueOrder(order)) {
					slices.SortFunc(per[i], valueOrder(order))
				}
			}
			errs[i] = err
		}()
	}
	wg.Wait()

	t := c.e.Topology()
	owner := func(slot int) string {
		if t == nil {
			return ""
		}
		if sh := t.Slot(slot); sh != nil {
			return sh.Primary.Addr
		}
		return ""
	}
	return mergeSlotStats(addrs, per, owner, order), slotStatsErr(addrs, errs)
}

// valueOrder is order for values, as package slices takes it.
func valueOrder(order func(a, b *SlotStats) int) func(a, b SlotStats) int {
	return func(a, b SlotStats) int { return order(&a, &b) }
}

// mergeSlotStats merges the slots the nodes at addrs reported (per, in addrs' order,
// each list in order) into one list in order, each slot once: a slot two nodes
// reported (their views differed while it moved) is the report of owner(slot), the
// topology's primary for it, else the first. It takes linear time per round of
// pairwise merges (log2 of the number of nodes rounds), with no sort: it may run after
// the call's deadline, when a node failed by it, and must not hold the caller up.
func mergeSlotStats(addrs []string, per [][]SlotStats, owner func(slot int) string, order func(a, b *SlotStats) int) []SlotStats {
	pick := make([]int32, hashslot.Count) // slot -> 1 + index of the node whose report counts
	for i, list := range per {
		for k := range list {
			if s := list[k].Slot; pick[s] == 0 || owner(s) == addrs[i] {
				pick[s] = int32(i + 1)
			}
		}
	}
	lists := make([][]SlotStats, 0, len(per))
	for i, list := range per {
		kept := list[:0] // in place: the lists are ours
		for _, s := range list {
			if pick[s.Slot] == int32(i+1) {
				kept = append(kept, s)
			}
		}
		if len(kept) > 0 {
			lists = append(lists, kept)
		}
	}
	for len(lists) > 1 {
		next := make([][]SlotStats, 0, (len(lists)+1)/2)
		for i := 0; i < len(lists); i += 2 {
			if i+1 == len(lists) {
				next = append(next, lists[i])
			} else {
				next = append(next, mergeTwo(lists[i], lists[i+1], order))
			}
		}
		lists = next
	}
	if len(lists) == 0 {
		return nil
	}
	return lists[0]
}

// mergeTwo merges two lists in order into a new one.
func mergeTwo(a, b []SlotStats, order func(a, b *SlotStats) int) []SlotStats {
	out := make([]SlotStats, 0, len(a)+len(b))
	for len(a) > 0 && len(b) > 0 {
		if order(&b[0], &a[0]) < 0 {
			out, b = append(out, b[0]), b[1:]
		} else {
			out, a = append(out, a[0]), a[1:]
		}
	}
	return append(append(out, a...), b...)
}

// decodeSlotStats reads a CLUSTER SLOT-STATS reply: an array of [slot, map of metric
// to value] pairs (the map a flat array in RESP2). Metrics it does not know are skipped.
func decodeSlotStats(v resp.Value) ([]SlotStats, error) {
	if !isList(v) {
		return nil, typeErr(v, "an array of slots")
	}
	out := make([]SlotStats, len(v.Elems))
	for i, e := range v.Elems {
		if !isList(e) || len(e.Elems) != 2 {
			return nil, typeErr(e, "a [slot, statistics] pair")
		}
		slot, err := valueInt(e.Elems[0])
		if err != nil {
			return nil, err
		}
		if slot < 0 || slot >= hashslot.Count {
			return nil, fmt.Errorf("slot %d out of range", slot)
		}
		s := &out[i]
		s.Slot = int(slot)
		err = forPairs(e.Elems[1], "a map of slot statistics", func(name string, val resp.Value) (err error) {
			switch name {
			case "key-count":
				s.KeyCount, err = valueInt(val)
			case "cpu-usec":
				s.CPUUsec, err = valueInt(val)
			case "network-bytes-in":
				s.NetworkBytesIn, err = valueInt(val)
			case "network-bytes-out":
				s.NetworkBytesOut, err = valueInt(val)
			}
			return err
		})
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// slotStatsErr is the error of a CLUSTER SLOT-STATS call whose nodes at addrs failed
// with errs (nil entries: answered), or nil. When every node gave the same error reply
// (Redis: "unknown subcommand"), that reply is the error.
func slotStatsErr(addrs []string, errs []error) error {
	var failed nodeErrors
	for i, err := range errs {
		switch {
		case err == nil:
		case strings.Contains(err.Error(), addrs[i]): // a *NodeError, a reply "(from addr)"
			failed = append(failed, err)
		default:
			failed = append(failed, fmt.Errorf("%s: %w", addrs[i], err))
		}
	}
	if len(failed) == 0 {
		return nil
	}
	if first, ok := errs[0].(*resp.Error); ok && len(failed) == len(errs) {
		same := true
		for _, err := range errs[1:] {
			if e, ok := err.(*resp.Error); !ok || e.Msg != first.Msg {
				same = false
				break
			}
		}
		if same {
			return fmt.Errorf("redline: CLUSTER SLOT-STATS (Valkey 8.0+): every primary (%s) answered: %w", strings.Join(addrs, ", "), first)
		}
	}
	return fmt.Errorf("redline: CLUSTER SLOT-STATS: %d of %d primaries failed (the result holds the others' slots): %w", len(failed), len(addrs), failed)
}

// nodeErrors are several nodes' failures, each naming its node; errors.Is and
// errors.As see each of them.
type nodeErrors []error

// Error lists the failures, separated by semicolons.
func (e nodeErrors) Error() string {
	parts := make([]string, len(e))
	for i, err := range e {
		parts[i] = err.Error()
	}
	return strings.Join(parts, "; ")
}

// Unwrap returns the failures.
func (e nodeErrors) Unwrap() []error { return e }
