package cluster

import (
	"context"
	"crypto/tls"
	"log/slog"
	"time"

	"github.com/redline-go/redline/internal/conn"
	"github.com/redline-go/redline/internal/node"
	"github.com/redline-go/redline/internal/secret"
	"github.com/redline-go/redline/resp"
)

// ReadFrom is where reads go; the root package's ReadFrom has the same values.
type ReadFrom uint8

// The ReadFrom choices (see redline.ReadFrom).
const (
	ReadPrimary ReadFrom = iota
	ReadPreferReplica
	ReadReplicaOnly
	ReadNearest
	ReadLocalZone
)

// SplitMode says which multi-key commands whose keys span several slots are split by
// slot; the root package's SplitMode has the same values.
type SplitMode uint8

// The SplitMode choices (see redline.SplitMode).
const (
	SplitAll SplitMode = iota
	SplitReads
	SplitNone
)

// Config is what the engine needs. Every field is filled in by the root package
// (redline.Options.withDefaults is the one place where defaults are applied); the
// engine applies none of its own.
type Config struct {
	// Addrs are the seeds asked for the topology (a standalone server's one address).
	Addrs []string
	// Shape says what the servers are; ShapeAuto learns it from the first seed that
	// answers (see shape.go).
	Shape Shape
	// Replicas are a standalone server's replicas, read from per ReadFrom.
	Replicas []string
	// DB is the database every connection selects (standalone servers only).
	DB int
	// Sentinel, when set, finds the server through Sentinels (sentinel.go); Addrs,
	// Shape and Replicas are then unused.
	Sentinel *SentinelConfig
	// ReadFrom says where read-only commands go.
	ReadFrom ReadFrom
	// Split says which commands are split by slot when their keys span several (the
	// others fail with *CrossSlotError, nothing sent).
	Split SplitMode
	// Zone is the client's availability zone, for ReadLocalZone (see zone.go).
	Zone string
	// NodeZone, when set, gives each node's zone (by address) instead of asking the
	// servers; nil: the zone each server reports at the handshake.
	NodeZone func(addr string) string
	// CommandTimeout bounds a call whose context has no earlier deadline.
	CommandTimeout time.Duration
	// DialTimeout bounds one connection attempt (dial, TLS, handshake).
	DialTimeout time.Duration
	// MaxAttempts bounds the tries of one command (redirects and retries included);
	// less than 1 means 1.
	MaxAttempts int
	// RetryBackoff and RetryBackoffMax space the retries of TRYAGAIN, CLUSTERDOWN…
	RetryBackoff, RetryBackoffMax time.Duration
	// RefreshInterval is the period of the background topology refresh;
	// RefreshMinInterval the least time between two refreshes.
	RefreshInterval, RefreshMinInterval time.Duration
	// TLS, when set, makes every connection TLS with this configuration.
	TLS *tls.Config
	// TLSServerName, when set, names the certificate each node must present: it gets
	// the node's address and the hostname the topology says it announces ("" when
	// unknown); "" means the default rule (see tlsname.go).
	TLSServerName func(addr, hostname string) string
	// Protocol is the RESP version asked with HELLO (2 or 3).
	Protocol int
	// Username, Password and Credentials authenticate connections (see conn.Options).
	Username    string
	Password    secret.Secret
	Credentials func(ctx context.Context) (username, password string, err error)
	// ClientName is set on every connection (CLIENT SETNAME through HELLO).
	ClientName string
	// ReplyTimeout is how long a connection may owe a reply before it is checked.
	ReplyTimeout time.Duration
	// Limits bound what a reply may claim (lengths, elements, depth).
	Limits resp.Limits
	// Logger receives the engine's events (nil: none).
	Logger *slog.Logger
	// OnTopology is called after each change of the slot table (nil: none).
	OnTopology func(TopologyEvent)
	// OnDial and OnNodeState are the node layer's callbacks (nil: none).
	OnDial      func(DialEvent)
	OnNodeState func(NodeEvent)
	// Cache, when set, turns client-side caching on (cache.go): tracking on every
	// node's shared connection, DoCache.
	Cache *CacheConfig
	// NewNode builds the node for an address; nil builds real nodes (internal/node).
	// Tests of the routing policy pass fakes.
	NewNode func(addr string) Node
}

// DialEvent is a finished connection attempt (see node.DialEvent).
type DialEvent = node.DialEvent

// NodeEvent is a node's change of state (see node.Event).
type NodeEvent = node.Event

// NodeState is a node's health state (see node.State).
type NodeState = node.State

// The node states.
const (
	StateIdle       = node.StateIdle
	StateConnecting = node.StateConnecting
	StateUp         = node.StateUp
	StateDown       = node.StateDown
	StateClosed     = node.StateClosed
)

// NodeStats are one node's counters (see node.Stats).
type NodeStats = node.Stats

// Waiter is a call's deadline, shared by every attempt of the call (see conn.Waiter).
type Waiter = conn.Waiter

// NewWaiter returns the waiter of a call that ends with ctx or at dl (zero: ctx alone).
func NewWaiter(ctx context.Context, dl time.Time) Waiter { return conn.NewWaiter(ctx, dl) }

// ConnOptions are one connection's settings (see conn.Options), for DialOwn.
type ConnOptions = conn.Options

// Cause says why the slot table changed.
type Cause string

// The causes of a topology change.
const (
	CauseRefresh Cause = "refresh" // a refresh found a change (also the first table)
	CauseMoved   Cause = "moved"   // a MOVED reply moved a slot, or a shard after a failover
	CauseRole    Cause = "role"    // a replica read from answered ROLE as a primary
)

// TopologyEvent describes a change of the slot table (see redline.TopologyChange).
type TopologyEvent struct {
	Cause          Cause
	Epoch          uint64
	Source         string
	Shards, Nodes  int
	Added, Removed []string
	SlotsMoved     int
}

// The node and connection layers' own defaults, which the root package's Options share
// (so that the numbers cannot differ between layers).
const (
	DefaultDialTimeout  = node.DefaultDialTimeout
	DefaultReplyTimeout = conn.DefaultReplyTimeout
	DefaultProtocol     = conn.DefaultProtocol
)
