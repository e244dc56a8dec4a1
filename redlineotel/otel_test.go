package redlineotel

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/redline-go/redline"
	"github.com/redline-go/redline/hashslot"
	"github.com/redline-go/redline/redistest"
	"github.com/redline-go/redline/resp"
)

// peer returns the network.peer.* attributes of a node address.
func peer(t *testing.T, addr string) []attribute.KeyValue {
	t.Helper()
	host, port, ok := splitAddr(addr)
	if !ok || port == 0 {
		t.Fatalf("bad node address %q", addr)
	}
	return []attribute.KeyValue{semconv.NetworkPeerAddress(host), semconv.NetworkPeerPort(port)}
}

// TestSpans checks the command spans on a real cluster: names, kind, parent,
// attributes, an error reply's status — and the command metrics that go with them.
func TestSpans(t *testing.T) {
	cl := testCluster(t)
	ctx := t.Context()
	seed := cl.Addrs()[0]
	h := newHarness(t, WithServerAddress(seed), WithAttributes(attribute.String("app", "test")))
	c, err := redline.NewClient(ctx, redline.Options{Addrs: []string{seed}, Hooks: h.hooks()})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	b := cl.Node(1)
	kb := cl.KeyOn(t, b, "otel-span")

	pctx, parent := h.tp.Tracer("test").Start(ctx, "caller")
	if err := c.Do(pctx, "SET", kb, "v").Err(); err != nil {
		t.Fatal(err)
	}
	if v, err := c.Get(pctx, kb); err != nil || v != "v" {
		t.Fatalf("GET: %q %v", v, err)
	}
	var re *resp.Error
	if err := c.Do(pctx, "LPUSH", kb, "x").Err(); !errors.As(err, &re) || re.Code != "WRONGTYPE" {
		t.Fatalf("LPUSH on a string: %v, want WRONGTYPE", err)
	}
	if err := c.Do(pctx, "GET", "otel-missing").Err(); err != nil { // a null reply is no error
		t.Fatal(err)
	}
	for _, r := range c.DoMulti(pctx, redline.Cmd("GET", kb), redline.Cmd("GET", "other")) {
		if r.Err() != nil {
			t.Fatal(r.Err())
		}
	}
	if err := c.Do(pctx, "CLUSTER", "SHARDS").Err(); err != nil {
		t.Fatal(err)
	}
	kt := "{" + kb + "}:tx"
	err = c.Watch(pctx, func(tx *redline.Tx) error {
		_, err := tx.Exec(pctx, redline.Cmd("SET", kt, 1), redline.Cmd("INCR", kt))
		return err
	}, kt)
	if err != nil {
		t.Fatal(err)
	}
	parent.End()

	host, port, _ := splitAddr(seed)
	spans := map[string][]sdktrace.ReadOnlySpan{}
	for _, s := range h.spans.Ended() {
		spans[s.Name()] = append(spans[s.Name()], s)
	}
	one := func(name string, n int) sdktrace.ReadOnlySpan {
		t.Helper()
		if len(spans[name]) != n {
			t.Fatalf("%d spans named %q, want %d; spans: %v", len(spans[name]), name, n, names(h.spans.Ended()))
		}
		return spans[name][0]
	}
	check := func(s sdktrace.ReadOnlySpan, want ...attribute.KeyValue) {
		t.Helper()
		if s.SpanKind() != trace.SpanKindClient {
			t.Errorf("%s: kind %v, want client", s.Name(), s.SpanKind())
		}
		if s.Parent().SpanID() != parent.SpanContext().SpanID() || s.SpanContext().TraceID() != parent.SpanContext().TraceID() {
			t.Errorf("%s: not a child of the caller's span", s.Name())
		}
		if s.InstrumentationScope().Name != ScopeName || s.InstrumentationScope().SchemaURL != semconv.SchemaURL {
			t.Errorf("%s: scope %+v", s.Name(), s.InstrumentationScope())
		}
		want = append(want, semconv.DBSystemNameRedis, semconv.ServerAddress(host), semconv.ServerPort(port),
			attribute.String("app", "test"))
		if set := spanAttrs(s); !matches(set, want) {
			t.Errorf("%s: attributes %v, want them to include %v", s.Name(), set.ToSlice(), want)
		}
	}
	slot := hashslot.Key(kb)
	ok := append(peer(t, b.Addr()), SlotKey.Int(slot), AttemptsKey.Int(1))

	set := one("SET", 1)
	check(set, append(ok, semconv.DBOperationName("SET"))...)
	if set.Status().Code != codes.Unset {
		t.Errorf("SET: status %+v", set.Status())
	}
	get := one("GET", 2)
	check(get, append(ok, semconv.DBOperationName("GET"))...)
	for _, k := range []attribute.Key{semconv.ErrorTypeKey, semconv.DBResponseStatusCodeKey, RedirectsKey, semconv.DBOperationBatchSizeKey} {
		if _, has := spanAttrs(get).Value(k); has {
			t.Errorf("GET: has %s", k)
		}
	}
	missing := spans["GET"][1]
	if missing.Status().Code != codes.Unset {
		t.Errorf("GET of a missing key: status %+v, want unset (a null is no error)", missing.Status())
	}

	lpush := one("LPUSH", 1)
	check(lpush, append(ok, semconv.DBOperationName("LPUSH"), semconv.ErrorTypeKey.String("WRONGTYPE"),
		semconv.DBResponseStatusCode("WRONGTYPE"))...)
	if st := lpush.Status(); st.Code != codes.Error || !strings.HasPrefix(st.Description, "WRONGTYPE") {
		t.Errorf("LPUSH: status %+v, want an error with the server's message", st)
	}

	pipe := one("PIPELINE", 1)
	check(pipe, semconv.DBOperationName("PIPELINE"), semconv.DBOperationBatchSize(2), AttemptsKey.Int(1))
	for _, k := range []attribute.Key{SlotKey, semconv.NetworkPeerAddressKey} { // spread over nodes
		if _, has := spanAttrs(pipe).Value(k); has {
			t.Errorf("PIPELINE: has %s", k)
		}
	}
	check(one("CLUSTER SHARDS", 1), semconv.DBOperationName("CLUSTER SHARDS"))
	check(one("MULTI", 1), append(ok, semconv.DBOperationName("MULTI"), semconv.DBOperationBatchSize(2))...)

	// The command metrics.
	ms := h.metrics(t)
	dur, ok2 := ms[MetricOperationDuration]
	if !ok2 || dur.Unit != "s" {
		t.Fatalf("%s: %+v", MetricOperationDuration, dur)
	}
	hist := dur.Data.(metricdata.Histogram[float64])
	if want := []float64{0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10}; len(hist.DataPoints) == 0 ||
		fmt.Sprint(hist.DataPoints[0].Bounds) != fmt.Sprint(want) {
		t.Errorf("%s: bounds %v, want %v", MetricOperationDuration, hist.DataPoints, want)
	}
	common := []attribute.KeyValue{semconv.DBSystemNameRedis, attribute.String("app", "test"), semconv.ServerAddress(host)}
	for _, tc := range []struct {
		metric string
		want   []attribute.KeyValue
		n      int64
	}{
		{MetricOperationDuration, append(peer(t, b.Addr()), semconv.DBOperationName("SET")), 1},
		{MetricOperationDuration, []attribute.KeyValue{semconv.DBOperationName("GET")}, 2},
		{MetricOperationDuration, []attribute.KeyValue{semconv.DBOperationName("LPUSH"), semconv.ErrorTypeKey.String("WRONGTYPE"),
			semconv.DBResponseStatusCode("WRONGTYPE")}, 1},
		{MetricOperationDuration, []attribute.KeyValue{semconv.DBOperationName("PIPELINE")}, 1},
		{MetricOperationErrors, []attribute.KeyValue{semconv.DBOperationName("LPUSH"), semconv.ErrorTypeKey.String("WRONGTYPE")}, 1},
		{MetricOperationErrors, nil, 1},
		{MetricTopologyChanges, []attribute.KeyValue{TopologyCauseKey.String("refresh")}, 1},
		{MetricSlotsMoved, []attribute.KeyValue{TopologyCauseKey.String("refresh")}, hashslot.Count},
		{MetricTopologyShards, nil, 3},
		{MetricTopologyNodes, nil, 3},
		{MetricDials, append(peer(t, seed), DialDedicatedKey.Bool(false)), 1},
		{MetricDialDuration, peer(t, seed), 1},
		{MetricNodes, append(peer(t, b.Addr()), NodeStateKey.String("up")), 1},
		{MetricNodeStateChanges, append(peer(t, b.Addr()), NodeStateKey.String("up"), NodePrevStateKey.String("connecting")), 1},
	} {
		m, found := ms[tc.metric]
		if !found {
			t.Errorf("%s: not exported", tc.metric)
			continue
		}
		want := append(append([]attribute.KeyValue(nil), tc.want...), semconv.DBSystemNameRedis, attribute.String("app", "test"))
		if tc.metric == MetricOperationDuration || tc.metric == MetricOperationErrors {
			want = append(want, common...)
		}
		if got := sum(m, want...); got != tc.n {
			t.Errorf("%s %v: %d, want %d%s", tc.metric, tc.want, got, tc.n, dump(map[string]metricdata.Metrics{tc.metric: m}))
		}
	}
	if n := sum(ms[MetricDials], semconv.ErrorTypeKey.String("dial")); n != 0 {
		t.Errorf("failed dials on a healthy cluster: %d", n)
	}
}

func names(spans []sdktrace.ReadOnlySpan) []string {
	var out []string
	for _, s := range spans {
		out = append(out, s.Name())
	}
	return out
}

// TestClusterEvents drives the cluster through a MOVED, an ASK, a node refusing
// connections and coming back, and checks the metrics each one leaves. At the end,
// every metric the package doc names has been exported.
func TestClusterEvents(t *testing.T) {
	cl := testCluster(t)
	ctx := t.Context()
	topo, err := cl.Topology(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ms := topo.Masters()
	a, b, m3 := ms[0].Node, ms[1].Node, ms[2].Node
	h := newHarness(t)
	c, err := redline.NewClient(ctx, redline.Options{Addrs: []string{a.Addr()}, Hooks: h.hooks(), RefreshInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()

	// MOVED: a slot moves behind the client's back.
	kb := cl.KeyOn(t, b, "otel-moved")
	if err := c.Do(ctx, "SET", kb, "v").Err(); err != nil {
		t.Fatal(err)
	}
	if err := cl.MigrateSlot(ctx, hashslot.Key(kb), m3); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cl.MigrateSlot(context.Background(), hashslot.Key(kb), b) })
	h.spans.Reset()
	if v, err := c.Do(ctx, "GET", kb).Text(); err != nil || v != "v" {
		t.Fatalf("GET after the slot moved: %q %v", v, err)
	}
	got := h.metrics(t)
	if n := sum(got[MetricRedirects], semconv.DBOperationName("GET"), RedirectTypeKey.String("moved")); n != 1 {
		t.Errorf("MOVED redirects: %d, want 1%s", n, dump(got))
	}
	if n := sum(got[MetricTopologyChanges], TopologyCauseKey.String("moved")); n < 1 {
		t.Errorf("topology changes by MOVED: %d%s", n, dump(got))
	}
	if n := sum(got[MetricSlotsMoved], TopologyCauseKey.String("moved")); n < 1 {
		t.Errorf("slots moved by MOVED: %d", n)
	}
	if sp := h.spans.Ended(); len(sp) != 1 || !matches(spanAttrs(sp[0]),
		append(peer(t, m3.Addr()), AttemptsKey.Int(2), RedirectsKey.Int(1))) {
		t.Errorf("GET after MOVED: spans %v", sp)
	}

	// ASK: a key of a slot being migrated has already moved.
	ka := cl.KeyOn(t, a, "otel-ask")
	if err := c.Do(ctx, "SET", ka, "w").Err(); err != nil {
		t.Fatal(err)
	}
	mig, err := cl.BeginMigration(ctx, hashslot.Key(ka), b)
	if err != nil {
		t.Fatal(err)
	}
	if n, err := mig.MoveKeys(ctx, 100); err != nil || n != 1 {
		t.Fatalf("MoveKeys: %d %v", n, err)
	}
	if v, err := c.Do(ctx, "GET", ka).Text(); err != nil || v != "w" {
		t.Fatalf("GET during the migration: %q %v", v, err)
	}
	if err := mig.Finish(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cl.MigrateSlot(context.Background(), hashslot.Key(ka), a) })
	got = h.metrics(t)
	if n := sum(got[MetricRedirects], semconv.DBOperationName("GET"), RedirectTypeKey.String("ask")); n != 1 {
		t.Errorf("ASK redirects: %d, want 1%s", n, dump(got))
	}

	// m3 refuses connections: a dial fails in the dial phase and the node goes down.
	if err := m3.SetFault(redistest.Refuse); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m3.SetFault(redistest.Pass) })
	until := time.Now().Add(10 * time.Second)
	var last error
	for time.Now().Before(until) { // until a call meets the refusal (the old connection may take a moment to close)
		cctx, cancel := context.WithTimeout(ctx, time.Second)
		last = c.Do(cctx, "GET", kb).Err()
		cancel()
		var ne *redline.NodeError
		if errors.As(last, &ne) && ne.Phase == redline.PhaseDial {
			break
		}
	}
	m3peer := peer(t, m3.Addr())
	h.await(t, ctx, "a failed dial to the refusing node and its down state", func(ms map[string]metricdata.Metrics) bool {
		return sum(ms[MetricDials], append(m3peer, semconv.ErrorTypeKey.String("dial"), DialPhaseKey.String("dial"))...) >= 1 &&
			sum(ms[MetricDialDuration], append(m3peer, DialPhaseKey.String("dial"))...) >= 1 &&
			sum(ms[MetricNodes], append(m3peer, NodeStateKey.String("down"))...) == 1 &&
			sum(ms[MetricNodes], append(m3peer, NodeStateKey.String("up"))...) == 0 &&
			sum(ms[MetricNodeStateChanges], append(m3peer, NodeStateKey.String("down"))...) >= 1
	})
	got = h.metrics(t)
	if n := sum(got[MetricOperationErrors], semconv.DBOperationName("GET"), semconv.ErrorTypeKey.String("dial")) +
		sum(got[MetricOperationErrors], semconv.DBOperationName("GET"), semconv.ErrorTypeKey.String("node_down")); n < 1 {
		t.Errorf("GET errors on the refusing node (last: %v): %s", last, dump(got))
	}

	// Back to Pass: the node comes back up by itself.
	if err := m3.SetFault(redistest.Pass); err != nil {
		t.Fatal(err)
	}
	h.await(t, ctx, "the node back up", func(ms map[string]metricdata.Metrics) bool {
		return sum(ms[MetricNodes], append(m3peer, NodeStateKey.String("up"))...) == 1 &&
			sum(ms[MetricNodes], append(m3peer, NodeStateKey.String("down"))...) == 0
	})

	got = h.metrics(t)
	for _, name := range []string{MetricOperationDuration, MetricOperationErrors, MetricRedirects, MetricDials,
		MetricDialDuration, MetricNodes, MetricNodeStateChanges, MetricTopologyChanges, MetricSlotsMoved,
		MetricTopologyShards, MetricTopologyNodes} {
		if _, ok := got[name]; !ok {
			t.Errorf("%s: never exported", name)
		}
	}

	// Closing the client closes its nodes: none is counted any more.
	c.Close()
	got = h.metrics(t)
	for _, st := range []string{"connecting", "up", "down"} {
		if n := sum(got[MetricNodes], NodeStateKey.String(st)); n != 0 {
			t.Errorf("%d nodes %s after Close", n, st)
		}
	}
}

// TestNewErrors checks that bad options are errors, not panics.
func TestNewErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts []Option
		want string
	}{
		{"nil tracer provider", []Option{WithTracerProvider(nil)}, "nil provider"},
		{"nil meter provider", []Option{WithMeterProvider(nil)}, "nil provider"},
		{"nil option", []Option{nil}, "nil Option"},
		{"no port", []Option{WithServerAddress("redis.internal")}, "not host:port"},
		{"bad port", []Option{WithServerAddress("redis.internal:99999")}, "not host:port"},
		{"empty host", []Option{WithServerAddress(":6379")}, "not host:port"},
		{"attribute without key", []Option{WithAttributes(attribute.KeyValue{})}, "invalid attribute"},
	} {
		if _, err := New(tc.opts...); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want an error saying %q", tc.name, err, tc.want)
		}
	}
	in, err := New() // the globals
	if err != nil {
		t.Fatal(err)
	}
	if h := in.Hooks(); h.BeforeCommand == nil || h.AfterCommand == nil || h.OnDial == nil || h.OnNodeState == nil || h.OnTopology == nil {
		t.Errorf("Hooks: %+v", h)
	}
}

// TestClassify checks error.type and db.response.status_code for each kind of error.
func TestClassify(t *testing.T) {
	ne := &redline.NodeError{Addr: "10.0.0.1:6379", Phase: redline.PhaseTLS, Err: errors.New("x509: bad")}
	for _, tc := range []struct {
		err         error
		typ, status string
		comment     string
	}{
		{nil, "", "", "success"},
		{&resp.Error{Code: "WRONGTYPE", Msg: "WRONGTYPE Operation against a key", Slot: -1}, "WRONGTYPE", "WRONGTYPE", "server error"},
		{&resp.Error{Msg: "oops", Slot: -1}, "_OTHER", "", "server error without a prefix"},
		{fmt.Errorf("wrapped: %w", &resp.Error{Code: "CLUSTERDOWN", Slot: -1}), "CLUSTERDOWN", "CLUSTERDOWN", "wrapped server error"},
		{&redline.DeadlineError{Cause: context.DeadlineExceeded, Node: ne}, "timeout", "", "deadline"},
		{&redline.DeadlineError{Cause: context.Canceled}, "canceled", "", "canceled"},
		{ne, "tls", "", "node error"},
		{&redline.NodeError{Addr: "a:1", Phase: redline.PhaseDial, Err: errors.New("refused"), Down: true}, "node_down", "", "fast failure"},
		{&redline.NodeError{Addr: "a:1", Phase: redline.PhaseHandshake, Err: &resp.Error{Code: "WRONGPASS", Slot: -1}}, "handshake", "WRONGPASS", "auth failure"},
		{&redline.NodeError{Addr: "a:1", Phase: redline.PhaseDial, Err: redline.ErrClosed}, "closed", "", "closed node"},
		{redline.ErrClosed, "closed", "", "closed client"},
		{context.DeadlineExceeded, "timeout", "", "bare deadline"},
		{errors.New("something"), "_OTHER", "", "other"},
	} {
		typ, status := classify(tc.err)
		if typ != tc.typ || status != tc.status {
			t.Errorf("%s: %q %q, want %q %q", tc.comment, typ, status, tc.typ, tc.status)
		}
	}
}

// instrumented returns an Instrumentation with the SDK's tracer (sampling or not) and
// meter.
func instrumented(tb testing.TB, sampled bool) *Instrumentation {
	sampler := sdktrace.NeverSample()
	if sampled {
		sampler = sdktrace.AlwaysSample()
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(sampler))
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
	tb.Cleanup(func() {
		tp.Shutdown(context.Background())
		mp.Shutdown(context.Background())
	})
	in, err := New(WithTracerProvider(tp), WithMeterProvider(mp))
	if err != nil {
		tb.Fatal(err)
	}
	return in
}

var benchEnd = redline.CommandEnd{CommandStart: redline.CommandStart{Name: "get", Commands: 1}, Node: "127.0.0.1:7000",
	Slot: 42, Attempts: 1, Elapsed: time.Millisecond}

// TestCommandAllocs checks the cost of a call's hooks once its attribute sets are
// cached, with the SDK's meter and a tracer that does not sample: no allocation but
// the tracer's own, for starting a span with the same options.
func TestCommandAllocs(t *testing.T) {
	in := instrumented(t, false)
	hooks := in.Hooks()
	ctx := context.Background()
	run := func() { hooks.AfterCommand(hooks.BeforeCommand(ctx, benchEnd.CommandStart), benchEnd) }
	run()
	n := testing.AllocsPerRun(1000, run)
	opts := []trace.SpanStartOption{trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(semconv.DBSystemNameRedis, semconv.DBOperationName("GET"))}
	tracer := testing.AllocsPerRun(1000, func() {
		_, span := in.tracer.Start(ctx, "GET", opts...)
		span.End()
	})
	t.Logf("%v allocations per call, %v of them the tracer's", n, tracer)
	if n > tracer {
		t.Errorf("%v allocations per call, want at most the tracer's %v", n, tracer)
	}
}

// BenchmarkHooks measures a call's hooks (BeforeCommand then AfterCommand) with the
// SDK's meter and tracer, sampled and not.
func BenchmarkHooks(b *testing.B) {
	for _, sampled := range []bool{false, true} {
		b.Run("sampled="+strconv.FormatBool(sampled), func(b *testing.B) {
			hooks := instrumented(b, sampled).Hooks()
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				hooks.AfterCommand(hooks.BeforeCommand(ctx, benchEnd.CommandStart), benchEnd)
			}
		})
	}
}

// TestObserveStats checks the metrics taken from Stats at each collection.
func TestObserveStats(t *testing.T) {
	cl := testCluster(t)
	ctx := t.Context()
	h := newHarness(t)
	c, err := redline.NewClient(ctx, redline.Options{Addrs: cl.Addrs(), Hooks: h.hooks(),
		RefreshInterval: 20 * time.Millisecond, RefreshMinInterval: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := h.inst.ObserveStats(nil); err == nil {
		t.Error("ObserveStats(nil): no error")
	}
	reg, err := h.inst.ObserveStats(c)
	if err != nil {
		t.Fatal(err)
	}
	b := cl.Node(1)
	kb := cl.KeyOn(t, b, "otel-stats")
	for range 10 { // a latency estimate for b
		if err := c.Do(ctx, "SET", kb, "v").Err(); err != nil {
			t.Fatal(err)
		}
	}
	bpeer := peer(t, b.Addr())
	latency := func(ms map[string]metricdata.Metrics) float64 {
		g, _ := ms[MetricNodeLatency].Data.(metricdata.Gauge[float64])
		for _, p := range g.DataPoints {
			if matches(&p.Attributes, bpeer) {
				return p.Value
			}
		}
		return 0
	}
	// A refresh that finds nothing new announces itself by no event: poll.
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		ms := h.metrics(t)
		if sum(ms[MetricTopologyRefreshes], semconv.DBSystemNameRedis) >= 2 && sum(ms[MetricConnections], bpeer...) >= 1 &&
			latency(ms) > 0 {
			if _, ok := ms[MetricInFlight]; !ok {
				t.Errorf("%s: not exported", MetricInFlight)
			}
			if l := latency(ms); l > 5 {
				t.Errorf("latency of %v: %vs", b, l)
			}
			break
		}
		select {
		case <-tick.C:
		case <-ctx.Done():
			t.Fatalf("timed out waiting for refreshes, b's connection and latency:%s", dump(ms))
		}
	}
	if err := reg.Unregister(); err != nil {
		t.Fatal(err)
	}
	if n := sum(h.metrics(t)[MetricConnections]); n != 0 {
		t.Errorf("connections still observed after Unregister: %d", n)
	}
}
