package redlineotel

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"

	"github.com/redline-go/redline"
)

// The node, dial and topology events are rare (a handful per node state change), so
// their attribute sets are built per event.

// attrs returns the base attributes followed by more.
func (in *Instrumentation) attrs(more ...attribute.KeyValue) metric.MeasurementOption {
	a := make([]attribute.KeyValue, 0, len(in.base)+len(more))
	return metric.WithAttributeSet(attribute.NewSet(append(append(a, in.base...), more...)...))
}

// onDial counts a connection attempt and records its duration.
func (in *Instrumentation) onDial(d redline.DialInfo) {
	a := peerAttrs(make([]attribute.KeyValue, 0, 5), d.Addr)
	a = append(a, DialDedicatedKey.Bool(d.Dedicated))
	if d.Err != nil {
		errType, _ := classify(d.Err)
		a = append(a, semconv.ErrorTypeKey.String(errType))
		if d.Phase != "" {
			a = append(a, DialPhaseKey.String(string(d.Phase)))
		}
	}
	o := in.attrs(a...)
	ctx := context.Background()
	in.dials.Add(ctx, 1, o)
	in.dialDuration.Record(ctx, d.Elapsed.Seconds(), o)
}

// counted reports whether redline.client.nodes counts a node in state s: idle nodes
// (never used, and announced by no event) and closed ones are not.
func counted(s redline.NodeState) bool {
	return s == redline.NodeConnecting || s == redline.NodeUp || s == redline.NodeDown
}

// onNodeState moves a node between the states of redline.client.nodes and counts
// the change. A repeated "down" (another failed attempt) is no change.
func (in *Instrumentation) onNodeState(s redline.NodeStateChange) {
	if s.From == s.To {
		return
	}
	ctx := context.Background()
	peer := peerAttrs(make([]attribute.KeyValue, 0, 4), s.Addr)
	if counted(s.From) {
		in.nodes.Add(ctx, -1, in.attrs(append(peer, NodeStateKey.String(string(s.From)))...))
	}
	if counted(s.To) {
		in.nodes.Add(ctx, 1, in.attrs(append(peer, NodeStateKey.String(string(s.To)))...))
	}
	in.nodeChanges.Add(ctx, 1, in.attrs(append(peer, NodeStateKey.String(string(s.To)),
		NodePrevStateKey.String(string(s.From)))...))
}

// onTopology counts a topology change and its moved slots, and records the new
// topology's size.
func (in *Instrumentation) onTopology(tc redline.TopologyChange) {
	ctx := context.Background()
	o := in.attrs(TopologyCauseKey.String(string(tc.Cause)))
	in.topoChanges.Add(ctx, 1, o)
	if tc.SlotsMoved > 0 {
		in.slotsMoved.Add(ctx, int64(tc.SlotsMoved), o)
	}
	in.topoShards.Record(ctx, int64(tc.Shards), in.baseGauge...)
	in.topoNodes.Record(ctx, int64(tc.Nodes), in.baseGauge...)
}
