package redlineotel

import (
	"context"
	"fmt"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/redline-go/redline"
	"github.com/redline-go/redline/redistest"
)

// The tests share one real cluster (3 masters behind fault proxies), started on first
// use and stopped by TestMain (redistest.Shared, redistest.Main).
func testCluster(t *testing.T) *redistest.Cluster {
	t.Helper()
	return redistest.Shared(t, "plain", redistest.Config{Masters: 3})
}

// TestMain runs the tests and stops the shared cluster.
func TestMain(m *testing.M) { redistest.Main(m) }

// harness is an Instrumentation exporting to in-memory readers, whose hooks also
// signal every event so a test can wait for one instead of sleeping.
type harness struct {
	spans  *tracetest.SpanRecorder
	tp     *sdktrace.TracerProvider
	reader *sdkmetric.ManualReader
	inst   *Instrumentation
	events chan struct{}
}

func newHarness(t *testing.T, opts ...Option) *harness {
	t.Helper()
	h := &harness{spans: tracetest.NewSpanRecorder(), reader: sdkmetric.NewManualReader(), events: make(chan struct{}, 1)}
	h.tp = sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(h.spans))
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(h.reader))
	t.Cleanup(func() {
		h.tp.Shutdown(context.Background())
		mp.Shutdown(context.Background())
	})
	inst, err := New(append([]Option{WithTracerProvider(h.tp), WithMeterProvider(mp)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	h.inst = inst
	return h
}

func (h *harness) signal() {
	select {
	case h.events <- struct{}{}:
	default:
	}
}

// hooks returns the Instrumentation's hooks, each followed by a signal.
func (h *harness) hooks() redline.Hooks {
	in := h.inst.Hooks()
	return redline.Hooks{
		BeforeCommand: in.BeforeCommand,
		AfterCommand:  func(ctx context.Context, ce redline.CommandEnd) { in.AfterCommand(ctx, ce); h.signal() },
		OnDial:        func(d redline.DialInfo) { in.OnDial(d); h.signal() },
		OnNodeState:   func(s redline.NodeStateChange) { in.OnNodeState(s); h.signal() },
		OnTopology:    func(tc redline.TopologyChange) { in.OnTopology(tc); h.signal() },
	}
}

// metrics collects every metric, by name.
func (h *harness) metrics(t *testing.T) map[string]metricdata.Metrics {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := h.reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	out := map[string]metricdata.Metrics{}
	for _, sm := range rm.ScopeMetrics {
		if sm.Scope.Name != ScopeName {
			t.Errorf("scope %q, want %q", sm.Scope.Name, ScopeName)
		}
		for _, m := range sm.Metrics {
			out[m.Name] = m
		}
	}
	return out
}

// await collects the metrics until cond holds for them, after each hook event.
func (h *harness) await(t *testing.T, ctx context.Context, what string, cond func(map[string]metricdata.Metrics) bool) {
	t.Helper()
	for {
		if cond(h.metrics(t)) {
			return
		}
		select {
		case <-h.events:
		case <-ctx.Done():
			t.Fatalf("timed out waiting for %s; metrics: %s", what, dump(h.metrics(t)))
		}
	}
}

// matches reports whether set has every attribute of want.
func matches(set *attribute.Set, want []attribute.KeyValue) bool {
	for _, kv := range want {
		if v, ok := set.Value(kv.Key); !ok || v != kv.Value {
			return false
		}
	}
	return true
}

// sum adds up the points of a counter, up-down counter or gauge (int64) whose
// attributes include want; for a histogram, it adds up the counts.
func sum(m metricdata.Metrics, want ...attribute.KeyValue) int64 {
	var n int64
	switch d := m.Data.(type) {
	case metricdata.Sum[int64]:
		for _, p := range d.DataPoints {
			if matches(&p.Attributes, want) {
				n += p.Value
			}
		}
	case metricdata.Gauge[int64]:
		for _, p := range d.DataPoints {
			if matches(&p.Attributes, want) {
				n += p.Value
			}
		}
	case metricdata.Histogram[float64]:
		for _, p := range d.DataPoints {
			if matches(&p.Attributes, want) {
				n += int64(p.Count)
			}
		}
	}
	return n
}

// dump renders metrics for a failure message.
func dump(ms map[string]metricdata.Metrics) string {
	s := ""
	for name, m := range ms {
		s += "\n  " + name + ":"
		switch d := m.Data.(type) {
		case metricdata.Sum[int64]:
			for _, p := range d.DataPoints {
				s += fmt.Sprintf("\n    %d %v", p.Value, p.Attributes.ToSlice())
			}
		case metricdata.Gauge[int64]:
			for _, p := range d.DataPoints {
				s += fmt.Sprintf("\n    %d %v", p.Value, p.Attributes.ToSlice())
			}
		case metricdata.Histogram[float64]:
			for _, p := range d.DataPoints {
				s += fmt.Sprintf("\n    count %d %v", p.Count, p.Attributes.ToSlice())
			}
		}
	}
	return s
}

// spanAttrs returns a span's attributes as a set.
func spanAttrs(s sdktrace.ReadOnlySpan) *attribute.Set {
	set := attribute.NewSet(s.Attributes()...)
	return &set
}
