package redline

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"time"

	"github.com/redline-go/redline/internal/cluster"
	"github.com/redline-go/redline/resp"
)

// ReadFrom says where read-only commands go.
type ReadFrom uint8

const (
	// ReadPrimary sends every command to the slot's primary (the default).
	ReadPrimary ReadFrom = iota
	// ReadPreferReplica sends read-only commands to a healthy replica of the slot's
	// shard, falling back to the primary when none is (within the same deadline).
	ReadPreferReplica
	// ReadReplicaOnly sends read-only commands to replicas only; with no healthy
	// replica the call fails.
	ReadReplicaOnly
	// ReadNearest sends read-only commands to the node of the shard (primary or
	// replica) with the lowest measured latency.
	ReadNearest
	// ReadLocalZone sends read-only commands to a node in the client's availability
	// zone (Options.Zone, required), to cut cross-zone latency and cost. In order: a
	// replica of the slot's shard in the zone (at random among them); the shard's
	// primary if it is in the zone; any replica; the primary. Nodes known down and
	// replicas the cluster reports failed are skipped, and a read whose node fails moves
	// on to the next choice within its deadline. Writes always go to primaries.
	//
	// Each node's zone is Options.NodeZone's answer, or else what the server reports
	// once per connection, at the handshake: Valkey 8.1+ in HELLO, Valkey 8.0 in INFO
	// server (asked in the handshake's round trip; an ACL that refuses INFO leaves the
	// zone unknown). A node whose zone is unknown (Redis has none; a Valkey node whose
	// availability-zone is not set) is never "in the zone": with no zone known, reads
	// behave as ReadPreferReplica. With this choice the client connects to every node
	// as soon as it learns of it, to learn its zone.
	ReadLocalZone
)

// String returns the name used in logs and by the CLI: primary, prefer-replica,
// replica-only, nearest, local-zone.
func (r ReadFrom) String() string {
	switch r {
	case ReadPrimary:
		return "primary"
	case ReadPreferReplica:
		return "prefer-replica"
	case ReadReplicaOnly:
		return "replica-only"
	case ReadNearest:
		return "nearest"
	case ReadLocalZone:
		return "local-zone"
	}
	return fmt.Sprintf("ReadFrom(%d)", r)
}

// ParseReadFrom parses a ReadFrom name as String prints it.
func ParseReadFrom(s string) (ReadFrom, error) {
	for r := ReadPrimary; r <= ReadLocalZone; r++ {
		if r.String() == s {
			return r, nil
		}
	}
	return 0, fmt.Errorf("redline: unknown ReadFrom %q (want primary, prefer-replica, replica-only, nearest or local-zone)", s)
}

// Options configure a Client. The zero value of every field is a documented default;
// only Addrs is required.
type Options struct {
	// Addrs are seed nodes, "host:port". NewClient asks them for the topology, three
	// at once in random order (one more each time one fails or 50ms pass without an
	// answer), and goes on with the first that answers; listing every node of a large
	// cluster costs a few connections, not one per node. Required.
	Addrs []string

	// Shape says whether the servers are a cluster or a standalone server (see Shape).
	// The zero value, ShapeAuto, learns it from the first seed that answers.
	Shape Shape

	// DB is the database every connection selects at its handshake (SELECT): for a
	// standalone server; a cluster has only database 0, and NewClient fails on one with
	// a DB other than 0. The zero value is database 0 (nothing sent).
	DB int

	// Sentinel, when its MasterName is set, finds the server through Redis Sentinel
	// instead of Addrs (which must then be empty): see SentinelOptions. The zero value
	// is off.
	Sentinel SentinelOptions

	// Replicas are a standalone server's replicas, "host:port", read from per ReadFrom
	// (writes always go to the server in Addrs). Only for a standalone server: a
	// cluster's replicas come from its topology, and NewClient fails on a cluster with
	// Replicas set. Empty means none: every command goes to the server.
	Replicas []string

	// Username and Password authenticate every connection (HELLO AUTH, or AUTH).
	// Empty Username with a Password is the default user. The password is a Secret
	// (NewSecret("…")): nothing prints or logs it, however the Options are printed.
	Username string
	Password Secret
	// Credentials, when set, is called at every new connection for the username and
	// password instead (rotating secrets). It gets the connection attempt's context.
	Credentials func(ctx context.Context) (username, password string, err error)

	// TLSConfig, when set, makes every connection use TLS. Certificates are verified
	// as configured (verification is on unless you turn it off). Each node's
	// certificate is verified against a name of its own, the first of:
	//   - TLSServerName(addr, hostname), when that is set and returns a name;
	//   - TLSConfig.ServerName, when set: one name for every node (a certificate
	//     naming a single endpoint, e.g. a configuration endpoint, or a tunnel);
	//   - the hostname the node announces in the topology (cluster-announce-hostname:
	//     CLUSTER SHARDS "hostname", CLUSTER SLOTS metadata), e.g. when the nodes
	//     announce IP endpoints (cluster-preferred-endpoint-type ip) and their
	//     certificates name hostnames only;
	//   - the host of the node's address.
	// A seed, and a node first met through a MOVED reply, have no hostname until a
	// topology lists them (the refresh a MOVED triggers): their first connection uses
	// the later rules, their next ones the hostname. Each node keeps its configuration
	// (a copy of TLSConfig when its name differs) for every attempt: TLSConfig must not
	// be modified after NewClient.
	TLSConfig *tls.Config
	// TLSServerName, when set (it needs TLSConfig), maps a node to the name its
	// certificate is verified against: it gets the node's address (host:port) and the
	// hostname the topology says it announces ("" when none is known yet) and returns
	// the name, or "" for the default rule (see TLSConfig). It is called when a node is
	// first met and at each topology change, possibly concurrently: it must be fast
	// and safe for concurrent use.
	TLSServerName func(addr, hostname string) string

	// DialTimeout bounds one connection attempt to a node: TCP, TLS and handshake
	// together. Attempts run in the background, so a call never waits longer than its
	// own deadline; this decides how long an unreachable node stays "connecting"
	// before it is known down (and calls to it fail fast). 0 means 2s.
	DialTimeout time.Duration
	// CommandTimeout bounds every call: its deadline is the earlier of the context's
	// and now + CommandTimeout, so nothing waits forever. The exception is the server's
	// own wait of a blocking command (BLPOP's timeout, XREAD's BLOCK, WAIT's…), which
	// the caller asked for: CommandTimeout bounds only the rest of such a call (see
	// Client.Do). 0 means 5s. DialTimeout, CommandTimeout and ReplyTimeout are at most
	// a year each (NewClient says so otherwise).
	CommandTimeout time.Duration
	// ReplyTimeout is the health limit of a connection: when a reply is owed and no
	// progress has been made for this long (from the request's write, or from the last
	// time 64 KiB more had arrived, whichever is later), the connection is declared
	// dead, its node marked down and every caller on it released with the cause. A
	// large reply still streaming in is progress, however long it takes (the caller
	// leaves at its own deadline); a trickle is not. 0 means 3s.
	ReplyTimeout time.Duration

	// MaxReplyBulkLen, MaxReplyElems and MaxReplyDepth bound what a reply may hold, so
	// that a broken or hostile server cannot make the client allocate or recurse
	// without bound: the length in bytes of one bulk string (0 means 512 MiB, Redis's
	// own proto-max-bulk-len default), the elements of one array, set or push and the
	// pairs of one map (0 means 16,777,216), and the nesting depth of aggregates (0
	// means 128; at least 8 when set: topology replies nest 5 deep). A reply over a
	// limit cannot be skipped safely: its connection is closed and its caller gets an
	// error matching resp.ErrTooLarge or resp.ErrTooDeep that names the limit. Negative
	// values are rejected. A connection's handshake (HELLO, and INFO server for
	// ReadLocalZone: the server's own small replies) reads with at least 64 KiB and 1,024
	// elements whatever these say.
	MaxReplyBulkLen int64
	MaxReplyElems   int64
	MaxReplyDepth   int

	// MaxAttempts bounds the tries of one command: redirects (MOVED, ASK) and retries
	// (TRYAGAIN, CLUSTERDOWN, LOADING, MASTERDOWN, or a failure before the command was
	// written) each count. 0 means 5; 1 disables retries and redirects.
	MaxAttempts int
	// RetryBackoff is the first wait before retrying a command the server asked to
	// retry (TRYAGAIN, CLUSTERDOWN, …); it doubles per retry up to RetryBackoffMax, with
	// jitter, and never outlasts the call's deadline. 0 means 10ms and 100ms: a call
	// waiting out a CLUSTERDOWN goes through within about 100ms of the cluster's
	// recovery, at a cost of at most 10-20 retries per second per waiting call.
	RetryBackoff, RetryBackoffMax time.Duration

	// RefreshInterval is how often the topology is refreshed when nothing triggers it.
	// 0 means 30s; negative disables periodic refreshes (MOVED, failures and uncovered
	// slots still trigger them).
	RefreshInterval time.Duration
	// RefreshMinInterval is the minimum spacing between two topology refreshes, however
	// many triggers arrive (a refresh asks one node, and two more when that one shows a
	// change or does not answer). 0 means 1s.
	RefreshMinInterval time.Duration

	// ReadFrom says where read-only commands go. The zero value is ReadPrimary.
	ReadFrom ReadFrom
	// Split says which multi-key commands whose keys span several slots are split by
	// slot (atomic per slot only; a partial failure is a *SplitError) and which fail
	// with *CrossSlotError, nothing sent (see SplitMode). The zero value is SplitAll.
	Split SplitMode
	// Zone is the client's availability zone (e.g. "us-east-1a"), as the servers name
	// theirs: required by ReadLocalZone, unused otherwise.
	Zone string
	// NodeZone, when set, returns a node's availability zone from its address
	// ("host:port" as the topology names it), instead of asking the servers: for
	// servers that do not report one (Redis) or a naming of your own. It is called once
	// per node, when the node is first seen, while the client adds it: it must return
	// quickly and not use the Client. "" means unknown.
	NodeZone func(addr string) string
	// ClientName is set on every connection (CLIENT SETNAME), the way to name them: the
	// command itself is refused on the shared connections, which every caller uses
	// (Client.ClientGetName reads the name back). Empty means none.
	ClientName string
	// Protocol is the RESP version: 3 (HELLO 3; RESP2 if the server does not know
	// HELLO) or 2. 0 means 3.
	Protocol int

	// Cache turns client-side caching on (see CacheOptions, Client.DoCache). The zero
	// value leaves it off.
	Cache CacheOptions

	// Logger receives redline's records: one per node state change and per topology
	// change, never one per command. nil means none. docs/LOGGING.md shows them.
	Logger *slog.Logger

	// Hooks are callbacks for tracing and metrics (commands, dials, node states,
	// topology changes); the module github.com/redline-go/redline/redlineotel turns
	// them into OpenTelemetry spans and metrics. The zero value sets none.
	Hooks Hooks
}

// Defaults for zero Options fields. DefaultDialTimeout (2s) and DefaultReplyTimeout (3s)
// are the connection layer's own defaults, shared so that the two cannot differ.
const (
	DefaultDialTimeout        = cluster.DefaultDialTimeout
	DefaultCommandTimeout     = 5 * time.Second
	DefaultReplyTimeout       = cluster.DefaultReplyTimeout
	DefaultMaxAttempts        = 5
	DefaultRetryBackoff       = 10 * time.Millisecond
	DefaultRetryBackoffMax    = 100 * time.Millisecond
	DefaultRefreshInterval    = 30 * time.Second
	DefaultRefreshMinInterval = time.Second
)

// maxTimeout bounds DialTimeout, CommandTimeout and ReplyTimeout: the client adds
// them (a refresh runs under DialTimeout + CommandTimeout), and a sum past
// math.MaxInt64 ns (a "no timeout" of math.MaxInt64) would wrap to the past.
const maxTimeout = 365 * 24 * time.Hour

// withDefaults validates o and returns it with defaults applied.
func (o Options) withDefaults() (Options, error) {
	if err := o.Sentinel.check(o); err != nil {
		return o, err
	}
	if len(o.Addrs) == 0 && !o.Sentinel.enabled() {
		return o, errors.New("redline: Options.Addrs: at least one seed address is required")
	}
	for _, a := range o.Addrs {
		if _, port, err := net.SplitHostPort(a); err != nil || port == "" {
			return o, fmt.Errorf("redline: Options.Addrs: %q is not host:port", a)
		}
	}
	neg := func(name string, d time.Duration) error {
		if d < 0 {
			return fmt.Errorf("redline: Options.%s must not be negative (got %v)", name, d)
		}
		return nil
	}
	long := func(name string, d time.Duration) error { // sums of timeouts must not overflow
		if d > maxTimeout {
			return fmt.Errorf("redline: Options.%s must be at most %v (got %v): every call has a deadline", name, maxTimeout, d)
		}
		return nil
	}
	if err := errors.Join(neg("DialTimeout", o.DialTimeout), neg("CommandTimeout", o.CommandTimeout),
		neg("ReplyTimeout", o.ReplyTimeout), neg("RetryBackoff", o.RetryBackoff),
		neg("RetryBackoffMax", o.RetryBackoffMax), neg("RefreshMinInterval", o.RefreshMinInterval),
		long("DialTimeout", o.DialTimeout), long("CommandTimeout", o.CommandTimeout),
		long("ReplyTimeout", o.ReplyTimeout)); err != nil {
		return o, err
	}
	if o.MaxReplyBulkLen < 0 || o.MaxReplyElems < 0 || o.MaxReplyDepth < 0 {
		return o, fmt.Errorf("redline: Options.MaxReplyBulkLen, MaxReplyElems and MaxReplyDepth must not be negative (got %d, %d, %d)",
			o.MaxReplyBulkLen, o.MaxReplyElems, o.MaxReplyDepth)
	}
	if o.MaxReplyDepth != 0 && o.MaxReplyDepth < minReplyDepth {
		return o, fmt.Errorf("redline: Options.MaxReplyDepth must be 0 (128) or at least %d (got %d): topology replies nest 5 deep",
			minReplyDepth, o.MaxReplyDepth)
	}
	if o.MaxAttempts < 0 {
		return o, fmt.Errorf("redline: Options.MaxAttempts must not be negative (got %d)", o.MaxAttempts)
	}
	if o.ReadFrom > ReadLocalZone {
		return o, fmt.Errorf("redline: Options.ReadFrom: unknown value %d", o.ReadFrom)
	}
	if o.Split > SplitNone {
		return o, fmt.Errorf("redline: Options.Split: unknown value %d", o.Split)
	}
	if o.TLSServerName != nil && o.TLSConfig == nil {
		return o, errors.New("redline: Options.TLSServerName is set without TLSConfig: it names the certificates of TLS connections")
	}
	if o.ReadFrom == ReadLocalZone && o.Zone == "" {
		return o, errors.New("redline: Options.ReadFrom local-zone needs Options.Zone, the client's availability zone")
	}
	if err := o.checkShape(); err != nil {
		return o, err
	}
	if o.Protocol != 0 && o.Protocol != 2 && o.Protocol != 3 {
		return o, fmt.Errorf("redline: Options.Protocol must be 2 or 3 (got %d)", o.Protocol)
	}
	if err := o.Cache.validate(o.Protocol); err != nil {
		return o, err
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	def(&o.DialTimeout, DefaultDialTimeout)
	def(&o.CommandTimeout, DefaultCommandTimeout)
	def(&o.ReplyTimeout, DefaultReplyTimeout)
	def(&o.RetryBackoff, DefaultRetryBackoff)
	def(&o.RetryBackoffMax, DefaultRetryBackoffMax)
	def(&o.RefreshInterval, DefaultRefreshInterval)
	def(&o.RefreshMinInterval, DefaultRefreshMinInterval)
	if o.RetryBackoffMax < o.RetryBackoff {
		o.RetryBackoffMax = o.RetryBackoff
	}
	if o.MaxAttempts == 0 {
		o.MaxAttempts = DefaultMaxAttempts
	}
	if o.Protocol == 0 {
		o.Protocol = cluster.DefaultProtocol
	}
	lim := o.replyLimits()
	o.MaxReplyBulkLen, o.MaxReplyElems, o.MaxReplyDepth = lim.MaxBulkLen, lim.MaxAggregateLen, lim.MaxDepth
	o.Addrs = append([]string(nil), o.Addrs...)
	o.Replicas = append([]string(nil), o.Replicas...)
	return o, nil
}

// minReplyDepth is the smallest MaxReplyDepth accepted.
const minReplyDepth = 8

// replyLimits returns the decoder limits of every connection, defaults applied.
func (o Options) replyLimits() resp.Limits {
	d := resp.DefaultLimits()
	if o.MaxReplyBulkLen > 0 {
		d.MaxBulkLen = o.MaxReplyBulkLen
	}
	if o.MaxReplyElems > 0 {
		d.MaxAggregateLen = o.MaxReplyElems
	}
	if o.MaxReplyDepth > 0 {
		d.MaxDepth = o.MaxReplyDepth
	}
	return d
}

// String describes the options with the password redacted, so that printing them
// (%v, %+v) or logging them never shows a secret.
func (o Options) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "redline.Options{Addrs: %v", o.Addrs)
	if o.Shape != ShapeAuto {
		fmt.Fprintf(&b, ", Shape: %v", o.Shape)
	}
	if o.DB != 0 {
		fmt.Fprintf(&b, ", DB: %d", o.DB)
	}
	if len(o.Replicas) > 0 {
		fmt.Fprintf(&b, ", Replicas: %v", o.Replicas)
	}
	if o.Sentinel.enabled() {
		fmt.Fprintf(&b, ", Sentinel: {Addrs: %v, MasterName: %q", o.Sentinel.Addrs, o.Sentinel.MasterName)
		if o.Sentinel.Username != "" {
			fmt.Fprintf(&b, ", Username: %q", o.Sentinel.Username)
		}
		if !o.Sentinel.Password.IsZero() {
			b.WriteString(", Password: [redacted]")
		}
		if o.Sentinel.TLSConfig != nil {
			b.WriteString(", TLS: on")
		}
		b.WriteString("}")
	}
	if o.Username != "" {
		fmt.Fprintf(&b, ", Username: %q", o.Username)
	}
	if !o.Password.IsZero() {
		b.WriteString(", Password: [redacted]")
	}
	if o.Credentials != nil {
		b.WriteString(", Credentials: func")
	}
	if o.TLSConfig != nil {
		b.WriteString(", TLS: on")
	}
	fmt.Fprintf(&b, ", DialTimeout: %v, CommandTimeout: %v, ReplyTimeout: %v, MaxAttempts: %d, ReadFrom: %v",
		o.DialTimeout, o.CommandTimeout, o.ReplyTimeout, o.MaxAttempts, o.ReadFrom)
	if o.Split != SplitAll {
		fmt.Fprintf(&b, ", Split: %v", o.Split)
	}
	if o.Zone != "" {
		fmt.Fprintf(&b, ", Zone: %q", o.Zone)
	}
	if o.ClientName != "" {
		fmt.Fprintf(&b, ", ClientName: %q", o.ClientName)
	}
	b.WriteString("}")
	return b.String()
}

// GoString is String, for %#v.
func (o Options) GoString() string { return o.String() }

// LogValue makes slog print the options redacted too.
func (o Options) LogValue() slog.Value { return slog.StringValue(o.String()) }
