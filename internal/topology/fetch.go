package topology

import (
	"context"
	"strings"

	"github.com/redline-go/redline/resp"
)

// Exec runs one command on one node and returns its reply. A server's error reply comes
// back in Value.Err with a nil error; the error is for a failure to get a reply at all
// (dial, write, read, deadline). conn.Conn.Do and node.Node.Do have this shape.
type Exec func(ctx context.Context, args ...any) (resp.Value, error)

// Fetch asks one node, through exec, for the cluster's topology: CLUSTER SHARDS, or
// CLUSTER SLOTS when the server does not know SHARDS (Redis < 7: an "unknown command" or
// "unknown subcommand" error reply) and on nothing else. addr is the node asked (it
// stands for the nodes that report no address of their own); useTLS selects the TLS
// ports of a SHARDS reply.
//
// Redis 7.0's CLUSTER SHARDS lists a master demoted by a failover as the master of a
// shard of its own, serving no slot, for a while (its shard id is stale); CLUSTER SLOTS,
// built from the nodes' roles, has it as the replica it is. When a SHARDS reply has such
// a shard, Fetch asks SLOTS too and returns its table if it shows that node as a replica.
//
// The errors: exec's own error as it is (a transport failure); a server's error reply
// as a *RefusedError (the command was refused: nothing about the connection failed);
// a reply that is not a valid topology as an error matching ErrInvalid or ErrNoShards.
func Fetch(ctx context.Context, exec Exec, addr string, useTLS bool) (*Table, error) {
	v, err := exec(ctx, "CLUSTER", "SHARDS")
	if err != nil {
		return nil, err
	}
	if v.Err != nil {
		if !unknownCommand(v.Err) {
			return nil, &RefusedError{Addr: addr, Command: "CLUSTER SHARDS", Err: v.Err}
		}
		if v, err = exec(ctx, "CLUSTER", "SLOTS"); err != nil {
			return nil, err
		}
		if v.Err != nil {
			return nil, &RefusedError{Addr: addr, Command: "CLUSTER SLOTS", Err: v.Err}
		}
		return ParseSlots(v, addr, useTLS)
	}
	t, err := ParseShards(v, addr, useTLS)
	if err != nil || !demotedAsEmptyShard(t) {
		return t, err
	}
	sv, err := exec(ctx, "CLUSTER", "SLOTS")
	if err != nil || sv.Err != nil {
		return t, nil
	}
	st, err := ParseSlots(sv, addr, useTLS)
	if err != nil {
		return t, nil
	}
	for _, s := range t.Shards() {
		if len(s.Ranges) == 0 {
			if r := st.NodeByAddr(s.Primary.Addr); r != nil && r.Role == RoleReplica {
				return st, nil
			}
		}
	}
	return t, nil
}

// demotedAsEmptyShard reports whether t has a live primary serving no slot: a node being
// added to the cluster, or a demoted master as Redis 7.0 lists it after a failover.
func demotedAsEmptyShard(t *Table) bool {
	for _, s := range t.Shards() {
		if len(s.Ranges) == 0 && !s.Primary.Failed() {
			return true
		}
	}
	return false
}

// unknownCommand reports whether e says the server does not know the command or
// subcommand: "ERR unknown command 'x'..." (Redis 7), "ERR Unknown subcommand or wrong
// number of arguments for 'SHARDS'..." (Redis 6).
func unknownCommand(e *resp.Error) bool {
	m := strings.ToLower(e.Msg)
	return strings.Contains(m, "unknown subcommand") || strings.Contains(m, "unknown command")
}

// RefusedError reports a topology command the node answered with an error reply, such
// as NOPERM when the ACL user may not run CLUSTER SHARDS: the server refused the command
// (which therefore did not run); the connection did not fail. errors.As finds the
// server's *resp.Error through it.
type RefusedError struct {
	// Addr is the node that refused.
	Addr string
	// Command is the command refused: "CLUSTER SHARDS" or "CLUSTER SLOTS".
	Command string
	// Err is the server's error reply.
	Err *resp.Error
}

// Error says who refused what and why, and for a permission error what the ACL user
// needs: "topology: 127.0.0.1:7000 refused CLUSTER SHARDS: NOPERM ...; the ACL user
// needs cluster|shards (or cluster|slots on Redis < 7)".
func (e *RefusedError) Error() string {
	msg := "topology: " + e.Addr + " refused " + e.Command + ": " + e.Err.Error()
	if e.Err.Code == "NOPERM" {
		if e.Command == "CLUSTER SLOTS" {
			msg += "; the ACL user needs cluster|slots"
		} else {
			msg += "; the ACL user needs cluster|shards (or cluster|slots on Redis < 7)"
		}
	}
	return msg
}

// Unwrap returns the server's error reply.
func (e *RefusedError) Unwrap() error { return e.Err }

// SafeToRetry is true: the server refused the command, so nothing ran.
func (e *RefusedError) SafeToRetry() bool { return true }
