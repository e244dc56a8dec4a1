// Package redlineotel turns a redline client's hooks into OpenTelemetry traces and
// metrics. It is a module of its own, so the core redline module stays free of
// OpenTelemetry.
//
//	inst, err := redlineotel.New(
//		redlineotel.WithTracerProvider(tp), // default: otel.GetTracerProvider()
//		redlineotel.WithMeterProvider(mp),  // default: otel.GetMeterProvider()
//		redlineotel.WithServerAddress("redis.internal:6379"), // optional: server.address, server.port
//	)
//	if err != nil { ... }
//	c, err := redline.NewClient(ctx, redline.Options{Addrs: seeds, Hooks: inst.Hooks()})
//
// It follows the OpenTelemetry semantic conventions for database clients and their
// Redis page (semconv v1.43.0, the newest in otel v1.47.0: db.system.name,
// db.operation.name, db.response.status_code, db.operation.batch.size, error.type,
// server.*, network.peer.*, all stable keys). Names it adds are under "redline.".
//
// # Spans
//
// One span per call (Do, a typed method, DoMulti, a transaction's Exec), of kind
// client, started by BeforeCommand as a child of the span in the caller's context and
// ended by AfterCommand. It covers the whole call, redirects and retries included.
//
// Its name is the command as redis-cli spells it, upper case: "GET", "CLUSTER SHARDS"
// (redline's "cluster|shards"), "PIPELINE" for DoMulti, "MULTI" for a transaction.
// The conventions' {target} is left out: Redis keys are no collection, and the
// address would be the same on every span of a client (the Redis page's own example
// is a bare "HMSET").
//
// Attributes at start: db.system.name "redis"; db.operation.name (the span name);
// db.operation.batch.size for a pipeline or transaction of other than one command;
// server.address and server.port (WithServerAddress; the port only when not 6379);
// those of WithAttributes. At the end: network.peer.address and network.peer.port (the
// node that answered, the last one tried; absent when the call spread over several
// nodes); redline.slot (absent for a keyless or multi-slot call); redline.attempts;
// redline.redirects (when a MOVED or ASK was followed); on failure error.type,
// db.response.status_code (for a server error reply) and status Error with the
// error's message. db.namespace is not set (a cluster has database 0 only), nor is
// db.query.text (redline has no sanitizer; the conventions say not to collect it
// unsanitized).
//
// error.type is, for a server error reply, its prefix, also in db.response.status_code
// ("WRONGTYPE", "ERR", "MOVED", "CLUSTERDOWN"…; "_OTHER" when the message has none);
// for a *redline.DeadlineError "timeout" (or "canceled"); for a *redline.NodeError
// "node_down" when the node was known down (failed fast), otherwise its phase: "dial",
// "tls", "handshake", "write", "read", "redirect"; "closed" for a closed client;
// "_OTHER" for anything else. A null reply (redline.Nil) is no error.
//
// # Metrics
//
// Every point carries db.system.name "redis" and the WithAttributes ones.
//
//   - db.client.operation.duration (histogram, s; the conventions' buckets 1ms…10s):
//     one point per call, with db.operation.name, server.*, network.peer.*, and
//     error.type and db.response.status_code on failure.
//   - redline.client.operation.errors (counter, {error}): failed calls, same attributes.
//   - redline.client.redirects (counter, {redirect}): MOVED and ASK replies followed by
//     single-command calls, with db.operation.name and redline.redirect.type ("moved"
//     or "ask").
//   - redline.client.dials (counter, {attempt}): connection attempts, with
//     network.peer.*, redline.dial.dedicated, and on failure error.type and
//     redline.dial.phase ("dial", "tls" or "handshake").
//   - redline.client.dial.duration (histogram, s): their durations, same attributes.
//   - redline.client.nodes (up-down counter, {node}): nodes by network.peer.* and
//     redline.node.state, one of "connecting", "up", "down" (nodes never used, and
//     closed ones, are not counted).
//   - redline.client.node.state_changes (counter, {change}): with network.peer.*,
//     redline.node.state (the new one) and redline.node.previous_state.
//   - redline.client.topology.changes (counter, {change}): topologies installed, with
//     redline.topology.cause: "refresh" (a refresh found a change; the first topology
//     too), "moved" (a MOVED reply moved one slot, or its shard after a failover) or
//     "role" (a replica read from said it is a primary now).
//   - redline.client.topology.slots_moved (counter, {slot}): slots whose primary
//     changed, with redline.topology.cause.
//   - redline.client.topology.shards and redline.client.topology.nodes (gauges,
//     {shard} and {node}): the size of the topology in use.
//
// With ObserveStats, from the client's Stats at each collection:
//
//   - redline.client.topology.refreshes (observable counter, {refresh}): refreshes run,
//     whether or not they found a change.
//   - redline.client.connections (observable up-down counter, {connection}): open
//     connections per node (network.peer.*), shared and idle dedicated.
//   - redline.client.requests.in_flight (observable up-down counter, {request}): per
//     node, requests queued or awaiting a reply on its shared connection.
//   - redline.client.node.latency (observable gauge, s): per node, the moving average
//     round trip on its shared connection (once there is one).
//
// # Cost
//
// The attribute sets of a command's start and of each (command, node, outcome) are
// built once and reused (up to 4,096 of them), so a call adds no allocation beyond
// the tracer's own and, for a recorded span, its end attributes.
package redlineotel

// The metric names (see the package doc).
const (
	MetricOperationDuration = "db.client.operation.duration"
	MetricOperationErrors   = "redline.client.operation.errors"
	MetricRedirects         = "redline.client.redirects"
	MetricDials             = "redline.client.dials"
	MetricDialDuration      = "redline.client.dial.duration"
	MetricNodes             = "redline.client.nodes"
	MetricNodeStateChanges  = "redline.client.node.state_changes"
	MetricTopologyChanges   = "redline.client.topology.changes"
	MetricSlotsMoved        = "redline.client.topology.slots_moved"
	MetricTopologyShards    = "redline.client.topology.shards"
	MetricTopologyNodes     = "redline.client.topology.nodes"
	MetricTopologyRefreshes = "redline.client.topology.refreshes" // ObserveStats
	MetricConnections       = "redline.client.connections"        // ObserveStats
	MetricInFlight          = "redline.client.requests.in_flight" // ObserveStats
	MetricNodeLatency       = "redline.client.node.latency"       // ObserveStats
)
