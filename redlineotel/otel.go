package redlineotel

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync"
	"sync/atomic"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/redline-go/redline"
)

// ScopeName is the instrumentation scope of the tracer and the meter.
const ScopeName = "github.com/redline-go/redline/redlineotel"

// The attributes redline adds to the semantic conventions' own (see the package doc).
const (
	SlotKey          = attribute.Key("redline.slot")                // span: the keys' hash slot
	AttemptsKey      = attribute.Key("redline.attempts")            // span: tries of the call
	RedirectsKey     = attribute.Key("redline.redirects")           // span: MOVED and ASK replies followed
	RedirectTypeKey  = attribute.Key("redline.redirect.type")       // "moved" or "ask"
	DialPhaseKey     = attribute.Key("redline.dial.phase")          // "dial", "tls" or "handshake": where a connection attempt failed
	DialDedicatedKey = attribute.Key("redline.dial.dedicated")      // a dedicated connection (blocking command, transaction, pub/sub)
	NodeStateKey     = attribute.Key("redline.node.state")          // "idle", "connecting", "up", "down", "closed"
	NodePrevStateKey = attribute.Key("redline.node.previous_state") // the state a node left
	TopologyCauseKey = attribute.Key("redline.topology.cause")      // "refresh", "moved" or "role"
)

const (
	defaultCacheLimit = 4096 // attribute sets kept for reuse, at most
	redisDefaultPort  = 6379
)

// Option configures New.
type Option interface{ apply(*config) }

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

type config struct {
	tp     trace.TracerProvider
	mp     metric.MeterProvider
	attrs  []attribute.KeyValue
	server string
	errs   []error
}

// WithTracerProvider sets the provider of the tracer that makes the command spans.
// Without it, the global one (otel.GetTracerProvider) is used, as it is when New
// runs. A nil provider is an error.
func WithTracerProvider(tp trace.TracerProvider) Option {
	return optionFunc(func(c *config) {
		if tp == nil {
			c.errs = append(c.errs, errors.New("redlineotel: WithTracerProvider: nil provider"))
		}
		c.tp = tp
	})
}

// WithMeterProvider sets the provider of the meter that makes the metrics. Without
// it, the global one (otel.GetMeterProvider) is used, as it is when New runs. A nil
// provider is an error.
func WithMeterProvider(mp metric.MeterProvider) Option {
	return optionFunc(func(c *config) {
		if mp == nil {
			c.errs = append(c.errs, errors.New("redlineotel: WithMeterProvider: nil provider"))
		}
		c.mp = mp
	})
}

// WithAttributes adds attributes to every span and every metric point, e.g. to tell
// two clients apart. They are fixed: keep them few and of low cardinality. An
// attribute without a key is an error.
func WithAttributes(attrs ...attribute.KeyValue) Option {
	return optionFunc(func(c *config) {
		for _, kv := range attrs {
			if !kv.Valid() {
				c.errs = append(c.errs, fmt.Errorf("redlineotel: WithAttributes: invalid attribute %q", kv.Key))
			}
		}
		c.attrs = append(c.attrs, attrs...)
	})
}

// WithServerAddress sets server.address and server.port on every command span and
// duration point: the address the application configured for the cluster ("host:port",
// e.g. a DNS name in front of the seeds, or the first seed), as the conventions ask;
// the node that served a call is network.peer.address / network.peer.port. The port is
// left out when it is Redis's default (6379). Without it, server.* are not set. An
// address that is not host:port with a port in 1–65535 is an error.
func WithServerAddress(hostport string) Option {
	return optionFunc(func(c *config) {
		host, port, ok := splitAddr(hostport)
		if !ok || host == "" || port <= 0 {
			c.errs = append(c.errs, fmt.Errorf("redlineotel: WithServerAddress: %q is not host:port", hostport))
		}
		c.server = hostport
	})
}

// Instrumentation turns a redline client's hooks into OpenTelemetry spans and
// metrics. Make one with New and set Options.Hooks to its Hooks(). It is safe for
// concurrent use. One may serve several clients: their counters and histograms add
// up, and the topology gauges show the last change of any of them. To tell clients
// apart, give each its own Instrumentation, with WithAttributes.
type Instrumentation struct {
	tracer trace.Tracer
	meter  metric.Meter

	base        []attribute.KeyValue // db.system.name, the WithAttributes ones
	spanBase    []attribute.KeyValue // base + server.address/port
	baseSet     attribute.Set
	baseGauge   []metric.RecordOption
	baseObserve []metric.ObserveOption

	duration     metric.Float64Histogram
	opErrors     metric.Int64Counter
	redirects    metric.Int64Counter
	dials        metric.Int64Counter
	dialDuration metric.Float64Histogram
	nodes        metric.Int64UpDownCounter
	nodeChanges  metric.Int64Counter
	topoChanges  metric.Int64Counter
	slotsMoved   metric.Int64Counter
	topoShards   metric.Int64Gauge
	topoNodes    metric.Int64Gauge

	refreshes metric.Int64ObservableCounter // ObserveStats
	conns     metric.Int64ObservableUpDownCounter
	inFlight  metric.Int64ObservableUpDownCounter
	latency   metric.Float64ObservableGauge

	ops    sync.Map // command name (as the hooks spell it) → *opInfo
	cached atomic.Int64
	limit  int64
}

// New returns an Instrumentation, or an error for a bad option or an instrument the
// meter would not make.
func New(opts ...Option) (*Instrumentation, error) {
	var c config
	for _, o := range opts {
		if o == nil {
			return nil, errors.New("redlineotel: New: nil Option")
		}
		o.apply(&c)
	}
	if len(c.errs) > 0 {
		return nil, errors.Join(c.errs...)
	}
	if c.tp == nil {
		c.tp = otel.GetTracerProvider()
	}
	if c.mp == nil {
		c.mp = otel.GetMeterProvider()
	}
	in := &Instrumentation{
		tracer: c.tp.Tracer(ScopeName, trace.WithSchemaURL(semconv.SchemaURL)),
		limit:  defaultCacheLimit,
	}
	in.base = append([]attribute.KeyValue{semconv.DBSystemNameRedis}, c.attrs...)
	in.spanBase = append([]attribute.KeyValue(nil), in.base...)
	if c.server != "" {
		host, port, _ := splitAddr(c.server)
		in.spanBase = append(in.spanBase, semconv.ServerAddress(host))
		if port != redisDefaultPort {
			in.spanBase = append(in.spanBase, semconv.ServerPort(port))
		}
	}
	in.baseSet = attribute.NewSet(in.base...)
	in.baseGauge = []metric.RecordOption{metric.WithAttributeSet(in.baseSet)}
	in.baseObserve = []metric.ObserveOption{metric.WithAttributeSet(in.baseSet)}
	in.meter = c.mp.Meter(ScopeName, metric.WithSchemaURL(semconv.SchemaURL))
	if err := in.makeInstruments(in.meter); err != nil {
		return nil, err
	}
	return in, nil
}

func (in *Instrumentation) makeInstruments(m metric.Meter) error {
	var errs []error
	check := func(err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}
	var err error
	in.duration, err = m.Float64Histogram(MetricOperationDuration, metric.WithUnit("s"),
		metric.WithDescription("Duration of database client operations."),
		metric.WithExplicitBucketBoundaries(0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10))
	check(err)
	in.opErrors, err = m.Int64Counter(MetricOperationErrors, metric.WithUnit("{error}"),
		metric.WithDescription("Calls that failed, by error.type."))
	check(err)
	in.redirects, err = m.Int64Counter(MetricRedirects, metric.WithUnit("{redirect}"),
		metric.WithDescription("MOVED and ASK replies followed."))
	check(err)
	in.dials, err = m.Int64Counter(MetricDials, metric.WithUnit("{attempt}"),
		metric.WithDescription("Connection attempts to nodes; failed ones carry error.type and redline.dial.phase."))
	check(err)
	in.dialDuration, err = m.Float64Histogram(MetricDialDuration, metric.WithUnit("s"),
		metric.WithDescription("Duration of connection attempts (dial, TLS and handshake)."),
		metric.WithExplicitBucketBoundaries(0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10))
	check(err)
	in.nodes, err = m.Int64UpDownCounter(MetricNodes, metric.WithUnit("{node}"),
		metric.WithDescription("Nodes in use, by redline.node.state (connecting, up, down)."))
	check(err)
	in.nodeChanges, err = m.Int64Counter(MetricNodeStateChanges, metric.WithUnit("{change}"),
		metric.WithDescription("Changes of a node's connection state."))
	check(err)
	in.topoChanges, err = m.Int64Counter(MetricTopologyChanges, metric.WithUnit("{change}"),
		metric.WithDescription("Topologies installed: after a refresh that found a change, or a slot moved by MOVED."))
	check(err)
	in.slotsMoved, err = m.Int64Counter(MetricSlotsMoved, metric.WithUnit("{slot}"),
		metric.WithDescription("Slots whose primary changed with a new topology."))
	check(err)
	in.topoShards, err = m.Int64Gauge(MetricTopologyShards, metric.WithUnit("{shard}"),
		metric.WithDescription("Shards of the topology in use."))
	check(err)
	in.topoNodes, err = m.Int64Gauge(MetricTopologyNodes, metric.WithUnit("{node}"),
		metric.WithDescription("Nodes of the topology in use."))
	check(err)
	in.refreshes, err = m.Int64ObservableCounter(MetricTopologyRefreshes, metric.WithUnit("{refresh}"),
		metric.WithDescription("Topology refreshes run (ObserveStats)."))
	check(err)
	in.conns, err = m.Int64ObservableUpDownCounter(MetricConnections, metric.WithUnit("{connection}"),
		metric.WithDescription("Open connections to a node, shared and idle dedicated (ObserveStats)."))
	check(err)
	in.inFlight, err = m.Int64ObservableUpDownCounter(MetricInFlight, metric.WithUnit("{request}"),
		metric.WithDescription("Requests queued or awaiting a reply on a node's shared connection (ObserveStats)."))
	check(err)
	in.latency, err = m.Float64ObservableGauge(MetricNodeLatency, metric.WithUnit("s"),
		metric.WithDescription("Moving average round trip on a node's shared connection (ObserveStats)."))
	check(err)
	if len(errs) > 0 {
		return fmt.Errorf("redlineotel: creating instruments: %w", errors.Join(errs...))
	}
	return nil
}

// Hooks returns the hooks to set as redline.Options.Hooks. Every field is set.
func (in *Instrumentation) Hooks() redline.Hooks {
	return redline.Hooks{
		BeforeCommand: in.beforeCommand,
		AfterCommand:  in.afterCommand,
		OnDial:        in.onDial,
		OnNodeState:   in.onNodeState,
		OnTopology:    in.onTopology,
	}
}

// splitAddr splits "host:port"; ok is false when addr is not of that form, port is 0
// when the port is not a number in 1–65535.
func splitAddr(addr string) (host string, port int, ok bool) {
	host, p, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, false
	}
	port, err = strconv.Atoi(p)
	if err != nil || port < 1 || port > 65535 {
		port = 0
	}
	return host, port, true
}

// peerAttrs appends network.peer.address and network.peer.port for a node address.
func peerAttrs(a []attribute.KeyValue, addr string) []attribute.KeyValue {
	if addr == "" {
		return a
	}
	host, port, ok := splitAddr(addr)
	if !ok {
		return append(a, semconv.NetworkPeerAddress(addr))
	}
	a = append(a, semconv.NetworkPeerAddress(host))
	if port > 0 {
		a = append(a, semconv.NetworkPeerPort(port))
	}
	return a
}
