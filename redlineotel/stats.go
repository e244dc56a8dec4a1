package redlineotel

import (
	"context"
	"errors"

	"go.opentelemetry.io/otel/metric"

	"github.com/redline-go/redline"
)

// ObserveStats reports what only c.Stats() knows, at every collection of the metrics:
// topology refreshes (all of them, not only those that found a change), and per node
// its open connections, its requests in flight and its latency estimate (see the
// package doc for the names). Taking the snapshot costs a lock per node, once per
// collection. Unregister the returned registration when the client is closed. Observe
// one client per Instrumentation (or tell them apart with WithAttributes): two would
// report points with the same attributes.
func (in *Instrumentation) ObserveStats(c *redline.Client) (metric.Registration, error) {
	if c == nil {
		return nil, errors.New("redlineotel: ObserveStats: nil client")
	}
	return in.meter.RegisterCallback(func(_ context.Context, o metric.Observer) error {
		st := c.Stats()
		o.ObserveInt64(in.refreshes, int64(st.Refreshes), in.baseObserve...)
		for _, n := range st.Nodes {
			opt := in.attrs(peerAttrs(nil, n.Addr)...)
			o.ObserveInt64(in.conns, int64(n.Conns), opt)
			o.ObserveInt64(in.inFlight, int64(n.InFlight), opt)
			if n.Latency > 0 {
				o.ObserveFloat64(in.latency, n.Latency.Seconds(), opt)
			}
		}
		return nil
	}, in.refreshes, in.conns, in.inFlight, in.latency)
}
