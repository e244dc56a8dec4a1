package redline

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/redline-go/redline/hashslot"
	"github.com/redline-go/redline/internal/cluster"
	"github.com/redline-go/redline/resp"
)

// This file holds the CLUSTER SLOT-STATS methods (Valkey 8.0+). Redis's command table,
// from which commands_gen.go is generated and checked, does not have the command: they
// are written by hand. Each node reports only the slots its shard serves, so the
// methods ask every primary concerned at once and merge the replies per slot.

// SlotStats is one slot's usage as CLUSTER SLOT-STATS reports it. KeyCount is always
// sent; CPUUsec (microseconds of CPU spent on the slot's commands), NetworkBytesIn and
// NetworkBytesOut (bytes of the slot's commands and replies, replication included) only
// when the nodes run with cluster-slot-stats-enabled yes: otherwise they stay 0. The
// counters are the primary's: reads served by replicas are counted on the replicas.
type SlotStats struct {
	Slot                            int
	KeyCount                        int64
	CPUUsec                         int64
	NetworkBytesIn, NetworkBytesOut int64
}

// SlotStatsMetric names a metric ClusterSlotStatsOrderBy orders by.
type SlotStatsMetric string

// The metrics of CLUSTER SLOT-STATS. Only SlotStatsKeyCount is always available; the
// others need cluster-slot-stats-enabled yes on the nodes (otherwise the server answers
// "Unrecognized sort metric for ORDERBY.").
const (
	SlotStatsKeyCount        SlotStatsMetric = "key-count"
	SlotStatsCPUUsec         SlotStatsMetric = "cpu-usec"
	SlotStatsNetworkBytesIn  SlotStatsMetric = "network-bytes-in"
	SlotStatsNetworkBytesOut SlotStatsMetric = "network-bytes-out"
)

// value returns s's counter for metric m (known: checked by the caller).
func (s *SlotStats) value(m SlotStatsMetric) int64 {
	switch m {
	case SlotStatsCPUUsec:
		return s.CPUUsec
	case SlotStatsNetworkBytesIn:
		return s.NetworkBytesIn
	case SlotStatsNetworkBytesOut:
		return s.NetworkBytesOut
	}
	return s.KeyCount
}

// SlotStatsOrder are the options of ClusterSlotStatsOrderBy; nil means every served
// slot, in descending order.
type SlotStatsOrder struct {
	// Limit is how many slots to return (LIMIT), 1 to 16384; 0 means all.
	Limit int
	// Asc orders from the smallest value up (ASC); by default the largest come first
	// (DESC).
	Asc bool
}

// ClusterSlotStats returns the usage statistics of every slot from start to end
// (inclusive, 0..16383) that a primary serves, in ascending slot order. Each primary
// serving slots in the range is asked at once, within the call's deadline (the earlier
// of ctx's and Options.CommandTimeout). When some fail, the slots of those that
// answered are returned with an error naming each failed node and its cause.
//
// Command: CLUSTER SLOT-STATS SLOTSRANGE start end. Valkey 8.0+: Redis answers "ERR
// unknown subcommand", returned as the error.
func (c *Client) ClusterSlotStats(ctx context.Context, start, end int) ([]SlotStats, error) {
	if start < 0 || end >= hashslot.Count || start > end {
		return nil, fmt.Errorf("redline: ClusterSlotStats: slots %d to %d: want 0 <= start <= end <= %d", start, end, hashslot.Count-1)
	}
	var addrs []string
	if t := c.e.Topology(); t != nil {
		for _, s := range t.Shards() {
			for _, r := range s.Ranges {
				if r[0] <= end && r[1] >= start {
					addrs = append(addrs, s.Primary.Addr)
					break
				}
			}
		}
	}
	stats, err := c.slotStats(ctx, addrs, []any{"CLUSTER", "SLOT-STATS", "SLOTSRANGE", start, end})
	slices.SortFunc(stats, func(a, b SlotStats) int { return cmp.Compare(a.Slot, b.Slot) })
	return stats, err
}

// ClusterSlotStatsOrderBy returns the statistics of the slots with the largest (or,
// with o.Asc, smallest) values of metric across the cluster, at most o.Limit of them
// (all served slots when 0), ordered by that value, slots of equal value by slot
// number. Every primary serving slots is asked for its own top o.Limit at once, within
// the call's deadline (the earlier of ctx's and Options.CommandTimeout); their lists
// are merged and the order and limit applied again. When some fail, the merge of those
// that answered is returned with an error naming each failed node and its cause.
//
// Command: CLUSTER SLOT-STATS ORDERBY metric [LIMIT limit] [ASC|DESC]. Valkey 8.0+:
// Redis answers "ERR unknown subcommand", returned as the error.
func (c *Client) ClusterSlotStatsOrderBy(ctx context.Context, metric SlotStatsMetric, o *SlotStatsOrder) ([]SlotStats, error) {
	switch metric {
	case SlotStatsKeyCount, SlotStatsCPUUsec, SlotStatsNetworkBytesIn, SlotStatsNetworkBytesOut:
	default:
		return nil, fmt.Errorf("redline: ClusterSlotStatsOrderBy: unknown metric %q: want key-count, cpu-usec, network-bytes-in or network-bytes-out", string(metric))
	}
	var so SlotStatsOrder
	if o != nil {
		so = *o
	}
	if so.Limit < 0 || so.Limit > hashslot.Count {
		return nil, fmt.Errorf("redline: ClusterSlotStatsOrderBy: limit %d: want 1 to %d, or 0 for all", so.Limit, hashslot.Count)
	}
	args := []any{"CLUSTER", "SLOT-STATS", "ORDERBY", string(metric)}
	if so.Limit > 0 {
		args = append(args, "LIMIT", so.Limit)
	}
	if so.Asc {
		args = append(args, "ASC")
	} else {
		args = append(args, "DESC")
	}
	var addrs []string
	if t := c.e.Topology(); t != nil {
		for _, s := range t.Shards() {
			if len(s.Ranges) > 0 {
				addrs = append(addrs, s.Primary.Addr)
			}
		}
	}
	stats, err := c.slotStats(ctx, addrs, args)
	slices.SortFunc(stats, func(a, b SlotStats) int {
		va, vb := a.value(metric), b.value(metric)
		if so.Asc {
			va, vb = vb, va
		}
		if d := cmp.Compare(vb, va); d != 0 { // larger first, unless Asc
			return d
		}
		return cmp.Compare(a.Slot, b.Slot)
	})
	if so.Limit > 0 && len(stats) > so.Limit {
		stats = stats[:so.Limit]
	}
	return stats, err
}

// slotStats sends args to the nodes at addrs at once, within the call's deadline, and
// returns the slots they report (once each: a slot two nodes report, while it moves,
// is the one the topology's owner reported), and an error naming every node that
// failed. The command hooks see it as one call.
func (c *Client) slotStats(ctx context.Context, addrs []string, args []any) (stats []SlotStats, err error) {
	if c.e.Closed() {
		return nil, ErrClosed
	}
	if !c.hooked {
		return c.slotStatsFrom(ctx, addrs, args)
	}
	c.aroundCommand(ctx, CommandStart{Name: "cluster|slot-stats", Commands: 1}, func(end *CommandEnd) {
		stats, err = c.slotStatsFrom(ctx, addrs, args)
		end.Err = err
	})
	return stats, err
}

// slotStatsFrom is slotStats without the hooks.
func (c *Client) slotStatsFrom(ctx context.Context, addrs []string, args []any) ([]SlotStats, error) {
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
				}
			}
			errs[i] = err
		}()
	}
	wg.Wait()

	t := c.e.Topology()
	var out []SlotStats
	at := map[int]int{} // slot -> index in out
	for i, list := range per {
		for _, s := range list {
			j, dup := at[s.Slot]
			switch {
			case !dup:
				at[s.Slot] = len(out)
				out = append(out, s)
			case t != nil && t.Slot(s.Slot) != nil && t.Slot(s.Slot).Primary.Addr == addrs[i]:
				out[j] = s
			}
		}
	}
	return out, slotStatsErr(addrs, errs)
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
