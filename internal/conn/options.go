package conn

import (
	"context"
	"crypto/tls"
	"errors"
	"log/slog"
	"net"
	"time"

	"github.com/redline-go/redline/internal/rerr"
	"github.com/redline-go/redline/internal/secret"
	"github.com/redline-go/redline/resp"
)

// Options configure one connection. The zero value of every field is a sensible
// default, applied by Dial (Options are not modified). The engine fills them from the
// client's redline.Options, the one place for the defaults a user sees: where a field
// is also a user option (Protocol, ReplyTimeout), its default here is the very constant
// the client's is, so the two cannot differ.
type Options struct {
	// Addr is the node's address, host:port. Required.
	Addr string
	// TLS, when set, makes the connection speak TLS. When its ServerName is empty, the
	// host of Addr is used (as tls.Dial does).
	TLS *tls.Config
	// DialContext opens the TCP connection. nil means a net.Dialer. A lone caller
	// writes and reads through the connection's raw descriptor (syscall.Conn) when it
	// has one, bypassing a wrapper's Write and Read (direct.go, solo.go).
	DialContext func(ctx context.Context, network, addr string) (net.Conn, error)
	// Protocol is the RESP version to negotiate: 3 (HELLO 3, falling back to RESP2 when
	// the server does not know HELLO) or 2. The engine passes redline.Options.Protocol;
	// 0 means DefaultProtocol (3).
	Protocol int
	// Username and Password authenticate the connection (HELLO AUTH, or AUTH). An empty
	// Username with a Password means the default user. The password is a
	// secret.Secret: nothing prints it.
	Username string
	Password secret.Secret
	// Credentials, when set, is called at every connection to get the username and
	// password, instead of the fields above (for rotating secrets).
	Credentials func(ctx context.Context) (username, password string, err error)
	// ClientName is set with CLIENT SETNAME (or HELLO SETNAME). Empty means none.
	ClientName string
	// DB, when not 0, selects that database at the handshake (SELECT, in the
	// handshake's round trip): for standalone servers; a cluster has only database 0.
	DB int
	// ReadOnly sends READONLY after the handshake (reads from a replica). A standalone
	// server's refusal of it (cluster support disabled) does not fail the handshake.
	ReadOnly bool
	// AskZone asks the server its availability zone at the handshake (INFO server, in
	// the same round trip) when HELLO may not report it: Valkey 8.1+ reports it in HELLO,
	// Valkey 8.0 only in INFO. A server that has none, or refuses INFO, leaves it
	// unknown (Conn.Zone ""); the handshake does not fail for it.
	AskZone bool
	// Tracking, when set, is a CLIENT TRACKING command sent at the handshake (in its
	// round trip; its refusal fails the handshake): client-side caching's tracking
	// connection. It needs RESP3, where invalidations come as pushes (to OnPush): a
	// connection that could only negotiate RESP2 fails its handshake.
	Tracking []string
	// Limits bound what the reply decoder accepts. Zero fields take resp's defaults.
	Limits resp.Limits
	// ReplyTimeout is the health limit: when a reply is owed and no progress has been
	// made for this long (counted from the request's write, or from the last time 64
	// KiB more had arrived, whichever is later; or an idle check gets no answer within
	// it), the connection is declared dead and every pending caller gets the cause. A
	// reply still streaming in is progress, however long it takes; a trickle is not.
	// It bounds how long a hung server can hold a connection; callers still leave at
	// their own deadlines. The engine passes redline.Options.ReplyTimeout; 0 means
	// DefaultReplyTimeout (3s).
	ReplyTimeout time.Duration
	// IdleCheck is how long a connection may go without reading anything before it
	// sends a PING to check the server is alive. 0 means 30s; a small random jitter is
	// added per connection.
	IdleCheck time.Duration
	// QueueSize is how many requests may wait for the writer. 0 means 1024.
	QueueSize int
	// OnPush receives RESP3 push frames (pub/sub messages, invalidations). It runs on
	// the connection's reader goroutine and must not block. nil drops them.
	OnPush func(resp.Value)
	// OnUnsolicited, when set, receives a reply that arrives while no request waits for
	// one (an error answering a Send, e.g. MOVED to SSUBSCRIBE); returning false treats
	// it as a desynchronized stream (the connection dies). Runs on the reader goroutine.
	OnUnsolicited func(resp.Value) bool
	// OnClose is called once, from the connection's own goroutines, when the connection
	// dies or is closed, with the cause (nil for Close).
	OnClose func(c *Conn, cause error)
	// OnPhase, when set, is called by Dial as each phase starts (dial, tls,
	// handshake), so an owner can tell what a slow attempt is waiting for.
	OnPhase func(rerr.Phase)
	// Logger receives debug records of connection deaths. nil means none.
	Logger *slog.Logger
}

// Defaults used for zero Options fields.
const (
	// DefaultProtocol is the RESP version negotiated when Protocol is 0 (also the
	// client's).
	DefaultProtocol = 3
	// DefaultReplyTimeout is also redline.DefaultReplyTimeout.
	DefaultReplyTimeout = 3 * time.Second
	DefaultIdleCheck    = 30 * time.Second
	DefaultQueueSize    = 1024
	// defaultHandshakeTimeout bounds Dial when its context has no deadline.
	defaultHandshakeTimeout = 10 * time.Second
)

// withDefaults returns a copy of o with defaults applied, or an error for invalid
// options.
func (o *Options) withDefaults() (*Options, error) {
	c := *o
	if c.Addr == "" {
		return nil, errors.New("redline: conn: Addr is required")
	}
	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		return nil, errors.New("redline: conn: Addr " + c.Addr + " is not host:port")
	}
	switch c.Protocol {
	case 0:
		c.Protocol = DefaultProtocol
	case 2, 3:
	default:
		return nil, errors.New("redline: conn: Protocol must be 2 or 3")
	}
	if c.ReplyTimeout <= 0 {
		c.ReplyTimeout = DefaultReplyTimeout
	}
	if c.IdleCheck <= 0 {
		c.IdleCheck = DefaultIdleCheck
	}
	if c.QueueSize <= 0 {
		c.QueueSize = DefaultQueueSize
	}
	if c.DialContext == nil {
		var d net.Dialer
		c.DialContext = d.DialContext
	}
	if c.TLS != nil && c.TLS.ServerName == "" {
		host, _, _ := net.SplitHostPort(c.Addr)
		c.TLS = c.TLS.Clone()
		c.TLS.ServerName = host
	}
	return &c, nil
}
