package redline

import (
	"cmp"
	"context"
	"fmt"

	"github.com/redline-go/redline/hashslot"
)

// This file holds the CLUSTER SLOT-STATS methods (Valkey 8.0+). Redis's command table,
// from which commands_gen.go is generated and checked, does not have the command: they
// are written by hand. Each node reports only the slots its shard serves, so the
// methods ask every primary concerned at once and merge the replies per slot
// (cluster_slot_stats_merge.go).

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

// bySlot orders slot statistics by slot number.
func bySlot(a, b *SlotStats) int { return cmp.Compare(a.Slot, b.Slot) }

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
	return c.slotStats(ctx, addrs, []any{"CLUSTER", "SLOT-STATS", "SLOTSRANGE", start, end}, bySlot)
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
	stats, err := c.slotStats(ctx, addrs, args, func(a, b *SlotStats) int {
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
