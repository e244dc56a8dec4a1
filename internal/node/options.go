package node

import (
	"log/slog"
	"time"

	"github.com/redline-go/redline/internal/conn"
)

// Options configure every node of a client. The engine fills them from the client's
// redline.Options, the one place for the defaults a user sees: a zero field takes the
// default below, which for DialTimeout is the very constant redline.DefaultDialTimeout
// is (so the two cannot differ). BackoffBase, BackoffMax and MaxDedicated are not user
// options: their defaults live only here.
type Options struct {
	// Conn is the template for the node's connections; Addr and OnClose are set per
	// node.
	Conn conn.Options
	// DialTimeout bounds one connection attempt, all phases together. It runs in the
	// background: callers wait for it only up to their own deadlines. The engine passes
	// redline.Options.DialTimeout; 0 means DefaultDialTimeout (2s).
	DialTimeout time.Duration
	// BackoffBase and BackoffMax shape the retries of a node that is down: the n-th
	// consecutive failure waits a random time in [d/2, d], d = min(BackoffMax,
	// BackoffBase·2^(n-1)). 0 means 100ms and 2s.
	BackoffBase, BackoffMax time.Duration
	// MaxDedicated bounds the dedicated connections (blocking commands, transactions,
	// pub/sub) open to one node at once. 0 means 16.
	MaxDedicated int
	// Shared, when set, adjusts the options of the node's shared connection only (not
	// dedicated ones), after the node set its own OnClose: client-side caching turns
	// tracking on there and wraps OnPush/OnClose to follow it.
	Shared func(o *conn.Options)
	// Zone, when set, is the node's availability zone as the user says it (the engine
	// passes redline.Options.NodeZone's answer); otherwise the zone is what the server
	// reports at each shared connection's handshake (see Node.Zone).
	Zone string
	// Logger receives one record per state change of a node. nil means none.
	Logger *slog.Logger
	// OnStateChange, when set, is called (outside any lock) at every state change.
	OnStateChange func(Event)
	// OnDial, when set, is called after every connection attempt.
	OnDial func(DialEvent)
}

// Defaults for zero Options fields.
const (
	// DefaultDialTimeout is also redline.DefaultDialTimeout.
	DefaultDialTimeout  = 2 * time.Second
	DefaultBackoffBase  = 100 * time.Millisecond
	DefaultBackoffMax   = 2 * time.Second
	DefaultMaxDedicated = 16
)

func (o Options) withDefaults() Options {
	if o.DialTimeout <= 0 {
		o.DialTimeout = DefaultDialTimeout
	}
	if o.BackoffBase <= 0 {
		o.BackoffBase = DefaultBackoffBase
	}
	if o.BackoffMax <= 0 {
		o.BackoffMax = DefaultBackoffMax
	}
	if o.BackoffMax < o.BackoffBase {
		o.BackoffMax = o.BackoffBase
	}
	if o.MaxDedicated <= 0 {
		o.MaxDedicated = DefaultMaxDedicated
	}
	return o
}

// Event describes a node's state change.
type Event struct {
	Addr      string
	From, To  State
	Err       error     // the cause, for Down (and for a lost connection)
	Attempt   int       // consecutive failed attempts, for Down
	NextRetry time.Time // for Down
}

// DialEvent describes one connection attempt.
type DialEvent struct {
	Addr      string
	Elapsed   time.Duration
	Err       error  // nil on success; a *rerr.NodeError naming the phase otherwise
	Dedicated bool   // a dedicated connection, not the shared one
	Zone      string // the zone the server reported at the handshake (conn.Conn.Zone), on success
}
