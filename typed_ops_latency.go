package redline

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/redline-go/redline/resp"
)

// A node's latency records, per node (see typed_nodes.go for the rules the …On methods
// share; LatencyLatestOn, LatencyDoctorOn and LatencyResetOn are in typed_nodes*.go).

// LatencySample is one spike of a latency event's history (LATENCY HISTORY).
type LatencySample struct {
	Time    time.Time     // when it happened (to the second)
	Latency time.Duration // how long it took (to the millisecond)
}

// LatencyHistoryOn returns the latest spikes of event ("command", "fork"…) of each node
// of nodes, oldest first (at most 160).
//
// Command: LATENCY HISTORY event, on each node of nodes.
func (c *Client) LatencyHistoryOn(ctx context.Context, nodes NodeSet, event string) (map[string][]LatencySample, error) {
	return onNodes(c, ctx, nodes, decodeLatencyHistory, "LATENCY", "HISTORY", event)
}

// decodeLatencyHistory decodes LATENCY HISTORY: [[unix seconds, ms]…].
func decodeLatencyHistory(r Result) ([]LatencySample, error) {
	v, err := r.typed()
	if err != nil {
		return nil, err
	}
	if !isList(v) {
		return nil, typeErr(v, "an array of latency samples")
	}
	out := make([]LatencySample, len(v.Elems))
	for i, e := range v.Elems {
		if !isList(e) || len(e.Elems) != 2 {
			return nil, fmt.Errorf("redline: latency sample %d is not [time, latency]", i)
		}
		ts, err1 := valueInt(e.Elems[0])
		ms, err2 := valueInt(e.Elems[1])
		if err1 != nil || err2 != nil || ms < 0 || ms > 1<<40 {
			return nil, fmt.Errorf("redline: latency sample %d is not [time, latency]", i)
		}
		out[i] = LatencySample{Time: time.Unix(ts, 0), Latency: time.Duration(ms) * time.Millisecond}
	}
	return out, nil
}

// LatencyGraphOn returns the ASCII-art graph of the latest spikes of event of each
// node of nodes.
//
// Command: LATENCY GRAPH event, on each node of nodes.
func (c *Client) LatencyGraphOn(ctx context.Context, nodes NodeSet, event string) (map[string]string, error) {
	return onNodes(c, ctx, nodes, Result.Text, "LATENCY", "GRAPH", event)
}

// CommandHistogram is the latency distribution of one command on a node (LATENCY
// HISTOGRAM): how many calls took at most each bucket's bound.
type CommandHistogram struct {
	Calls int64 // the calls counted
	// Buckets maps a bucket's upper bound (a power of two, in microseconds) to the
	// number of calls that took longer than the bucket below and at most this long.
	Buckets map[time.Duration]int64
}

// LatencyHistogramOn returns the latency distribution of the commands named (every
// command that ran when none is), by command, of each node of nodes (Redis 7.0+).
//
// Command: LATENCY HISTOGRAM [command ...], on each node of nodes.
func (c *Client) LatencyHistogramOn(ctx context.Context, nodes NodeSet, commands ...string) (map[string]map[string]CommandHistogram, error) {
	return onNodes(c, ctx, nodes, decodeLatencyHistogram, stringArgs([]string{"LATENCY", "HISTOGRAM"}, commands)...)
}

// decodeLatencyHistogram decodes LATENCY HISTOGRAM: a map of command to {calls,
// histogram_usec: {bound: count}} (flat arrays in RESP2).
func decodeLatencyHistogram(r Result) (map[string]CommandHistogram, error) {
	v, err := r.typed()
	if err != nil {
		return nil, err
	}
	out := map[string]CommandHistogram{}
	err = forPairs(v, "a map of command histograms", func(cmd string, hv resp.Value) error {
		h := CommandHistogram{Buckets: map[time.Duration]int64{}}
		err := forPairs(hv, "a command histogram", func(name string, val resp.Value) (err error) {
			switch name {
			case "calls":
				h.Calls, err = valueInt(val)
			case "histogram_usec":
				err = forPairs(val, "histogram buckets", func(bound string, n resp.Value) error {
					us, err := strconv.ParseInt(bound, 10, 64)
					if err != nil || us < 0 || us > 1<<40 {
						return fmt.Errorf("bucket bound %q", bound)
					}
					h.Buckets[time.Duration(us)*time.Microsecond], err = valueInt(n)
					return err
				})
			}
			return err
		})
		if err != nil {
			return fmt.Errorf("redline: LATENCY HISTOGRAM %q: %w", cmd, err)
		}
		out[cmd] = h
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
