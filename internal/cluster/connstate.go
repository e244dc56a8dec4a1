package cluster

import (
	"fmt"
	"strings"

	"github.com/redline-go/redline/internal/command"
)

// ConnStateError is returned, without sending anything, for a command that would change
// the state of the connection it is sent on (MULTI, SUBSCRIBE, HELLO, SELECT, CLIENT
// REPLY, …; the package documentation has the table). redline shares one connection
// per node between all callers, so such a command would change what other callers'
// replies mean. Use names the API that does what the command is for.
type ConnStateError struct {
	Command string // upper case, with its subcommand: "CLIENT REPLY"
	Use     string // what to use instead
}

// Error names the command and what to use instead.
func (e *ConnStateError) Error() string {
	return fmt.Sprintf("redline: %s changes the state of the connection it is sent on, which redline shares between callers; not sent: %s", e.Command, e.Use)
}

// connStateUse says, per command, what to use instead of sending it on a shared
// connection; connStateUseKind is the fallback per kind (a command of a newer Redis).
var connStateUse = map[string]string{
	"multi":           "use Client.TxPipelined, Client.Watch with Tx.Exec, or MULTI … EXEC within one DoMulti",
	"exec":            "use Client.TxPipelined, Client.Watch with Tx.Exec, or MULTI … EXEC within one DoMulti",
	"discard":         "use Client.TxPipelined, Client.Watch with Tx.Exec, or MULTI … DISCARD within one DoMulti",
	"watch":           "use Client.Watch",
	"unwatch":         "use Client.Watch (it unwatches when its function returns)",
	"subscribe":       "use Client.Subscribe",
	"unsubscribe":     "use Client.Subscribe and close the Subscription",
	"psubscribe":      "use Client.PSubscribe",
	"punsubscribe":    "use Client.PSubscribe and close the Subscription",
	"ssubscribe":      "use Client.SSubscribe",
	"sunsubscribe":    "use Client.SSubscribe and close the Subscription",
	"monitor":         "not supported; run redis-cli MONITOR against one node",
	"hello":           "set Options.Protocol, Options.Username, Options.Password and Options.ClientName",
	"auth":            "set Options.Username and Options.Password",
	"select":          "set Options.DB (a standalone server's database; a cluster has only database 0)",
	"readonly":        "set Options.ReadFrom to read from replicas",
	"readwrite":       "set Options.ReadFrom to read from replicas",
	"reset":           "not supported; redline sets up and resets its connections itself",
	"quit":            "use Client.Close",
	"asking":          "redline follows ASK redirects itself",
	"client|reply":    "not supported; every reply is read (ignore a Result you do not need)",
	"client|tracking": "client-side caching is not supported",
	"client|caching":  "client-side caching is not supported",
	"client|setname":  "set Options.ClientName",
	"client|setinfo":  "not supported on shared connections",
	"client|no-evict": "not supported on shared connections",
	"client|no-touch": "not supported on shared connections",
	"client":          "a CLIENT subcommand redline does not know is not sent, since it may change the connection's state",
	"script|debug":    "not supported; use redis-cli --ldb",
	"sync":            "replication commands are not supported",
	"psync":           "replication commands are not supported",
	"replconf":        "replication commands are not supported",
}

var connStateUseKind = [...]string{
	command.ConnTransaction: "use Client.TxPipelined or Client.Watch",
	command.ConnSubscribe:   "use Client.Subscribe, PSubscribe or SSubscribe",
	command.ConnMonitor:     "not supported",
	command.ConnSession:     "not supported on shared connections; see Options",
	command.ConnReplication: "replication commands are not supported",
}

// ConnStateErr returns the error for a command whose info has a ConnState.
func ConnStateErr(info *command.Info) error {
	use, ok := connStateUse[info.Name]
	if !ok && int(info.ConnState) < len(connStateUseKind) {
		use = connStateUseKind[info.ConnState]
	}
	return &ConnStateError{Command: CommandUpper(info.Name), Use: use}
}

// CommandUpper returns a table name as users write it: "client|reply" is "CLIENT REPLY".
func CommandUpper(name string) string {
	return strings.ToUpper(strings.ReplaceAll(name, "|", " "))
}
