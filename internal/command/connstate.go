package command

// ConnState says whether, and how, a command changes the state of the connection it is
// sent on: what later replies on that connection mean, or whether they come at all. A
// client that shares one connection between callers must not send such a command on it.
// Each Info's ConnState is computed once, when its table is built.
type ConnState uint8

// The kinds of connection state.
const (
	// ConnNone: the command leaves the connection as it found it.
	ConnNone ConnState = iota
	// ConnTransaction: MULTI, EXEC, DISCARD, WATCH, UNWATCH (ACL category @transaction).
	ConnTransaction
	// ConnSubscribe: SUBSCRIBE, PSUBSCRIBE, SSUBSCRIBE and their UNSUBSCRIBEs turn the
	// connection into a subscriber's (RESP2), or add pushes to it (RESP3).
	ConnSubscribe
	// ConnMonitor: MONITOR streams every command the server runs on the connection.
	ConnMonitor
	// ConnSession: a setting of the connection's session: HELLO, AUTH, SELECT,
	// READONLY, READWRITE, RESET, QUIT, ASKING, CLIENT REPLY, TRACKING, CACHING,
	// SETNAME, SETINFO, NO-EVICT, NO-TOUCH, SCRIPT DEBUG, and a CLIENT subcommand the
	// table does not know.
	ConnSession
	// ConnReplication: SYNC, PSYNC, REPLCONF make the connection a replica's.
	ConnReplication
)

// connStateByName is the documented part of the rule: the commands whose ACL
// categories do not say that they change the connection's state (@connection and
// @pubsub hold both kinds; MONITOR, SYNC and SCRIPT DEBUG are in neither). The
// commands of @transaction are ConnTransaction by their category. A test checks that
// every command of @connection, @pubsub and @transaction is either here or known to be
// harmless, so a command added by a newer Redis is flagged when the table is
// regenerated. Names of commands newer than the generated table are listed too: they
// apply to tables parsed from a newer server's COMMAND reply.
var connStateByName = map[string]ConnState{
	"subscribe": ConnSubscribe, "unsubscribe": ConnSubscribe,
	"psubscribe": ConnSubscribe, "punsubscribe": ConnSubscribe,
	"ssubscribe": ConnSubscribe, "sunsubscribe": ConnSubscribe,

	"monitor": ConnMonitor,

	"hello": ConnSession, "auth": ConnSession, "select": ConnSession,
	"readonly": ConnSession, "readwrite": ConnSession, "reset": ConnSession,
	"quit": ConnSession, "asking": ConnSession,
	"client":          ConnSession, // the container: a subcommand the table does not know
	"client|reply":    ConnSession,
	"client|tracking": ConnSession, "client|caching": ConnSession,
	"client|setname": ConnSession, "client|setinfo": ConnSession,
	"client|no-evict": ConnSession, "client|no-touch": ConnSession,
	"script|debug": ConnSession,

	"sync": ConnReplication, "psync": ConnReplication, "replconf": ConnReplication,
}

// connHarmless are the commands of @connection and @pubsub that leave the connection
// as they found it. With connStateByName and @transaction they cover those categories:
// a test fails for a command of the generated table that is in neither. A command of
// @connection in neither list — from a newer server's COMMAND reply — is taken for
// ConnSession: refused rather than risk the shared connection.
var connHarmless = map[string]bool{
	"ping": true, "echo": true, "wait": true,
	"client|kill": true, "client|trackinginfo": true, "client|pause": true,
	"client|unpause": true, "client|getname": true, "client|list": true,
	"client|info": true, "client|unblock": true, "client|id": true, "client|help": true,
	"client|getredir": true,
	"command":         true, "command|list": true, "command|getkeys": true,
	"command|getkeysandflags": true, "command|info": true, "command|help": true,
	"command|docs": true, "command|count": true,
	"publish": true, "spublish": true, "pubsub": true, "pubsub|channels": true,
	"pubsub|numsub": true, "pubsub|numpat": true, "pubsub|shardnumsub": true,
	"pubsub|shardchannels": true, "pubsub|help": true,
}

// classifyConn sets the ConnState of in and of its subcommands.
func classifyConn(in *Info) {
	switch {
	case in.Categories&CatTransaction != 0:
		in.ConnState = ConnTransaction
	case connStateByName[in.Name] != ConnNone:
		in.ConnState = connStateByName[in.Name]
	case in.Categories&CatConnection != 0 && !connHarmless[in.Name]:
		in.ConnState = ConnSession
	default:
		in.ConnState = ConnNone
	}
	for _, s := range in.Subcommands {
		classifyConn(s)
	}
}

// String returns the kind's name.
func (s ConnState) String() string {
	switch s {
	case ConnNone:
		return "none"
	case ConnTransaction:
		return "transaction"
	case ConnSubscribe:
		return "subscribe"
	case ConnMonitor:
		return "monitor"
	case ConnSession:
		return "session"
	case ConnReplication:
		return "replication"
	}
	return "unknown"
}
