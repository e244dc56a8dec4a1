package redline

import (
	"errors"
	"strconv"
	"time"
)

// The arguments of the operator commands (MEMORY USAGE, COMMAND LIST, CLIENT KILL).

// MemoryUsageOptions are MEMORY USAGE's options; nil is the server's default.
type MemoryUsageOptions struct {
	// Samples is how many elements of a nested value are sampled to estimate its size;
	// 0 is the server's default (5).
	Samples int64
	// AllSamples samples every element (SAMPLES 0): exact, and slow on a big value.
	AllSamples bool
}

func (o *MemoryUsageOptions) appendArgs(args []any) []any {
	switch {
	case o == nil:
	case o.AllSamples:
		args = append(args, "SAMPLES", int64(0))
	case o.Samples > 0:
		args = append(args, "SAMPLES", o.Samples)
	}
	return args
}

// CommandListFilter chooses the commands COMMAND LIST names; nil (or the zero value)
// names every command. Set one field at most: the first set of Module, ACLCat and
// Pattern is sent.
type CommandListFilter struct {
	Module  string // the commands of this module (FILTERBY MODULE)
	ACLCat  string // the commands of this ACL category, such as "dangerous" (FILTERBY ACLCAT)
	Pattern string // the commands whose name matches this glob (FILTERBY PATTERN)
}

func (f *CommandListFilter) appendArgs(args []any) []any {
	switch {
	case f == nil:
	case f.Module != "":
		args = append(args, "FILTERBY", "MODULE", f.Module)
	case f.ACLCat != "":
		args = append(args, "FILTERBY", "ACLCAT", f.ACLCat)
	case f.Pattern != "":
		args = append(args, "FILTERBY", "PATTERN", f.Pattern)
	}
	return args
}

// ClientKillFilter chooses the connections CLIENT KILL closes: those that match every
// field set. At least one of ID, Addr, LAddr, User, Type and MaxAge must be set (a
// filter of nothing would close every connection but the sender's).
type ClientKillFilter struct {
	ID    int64  // the connection with this ID (CLIENT LIST's id)
	Addr  string // the client at this address, ip:port (CLIENT LIST's addr)
	LAddr string // the connections to this local address of the node (laddr)
	User  string // the connections authenticated as this user
	// Type is "normal", "master", "replica" or "pubsub": the connections of that kind.
	Type string
	// MaxAge closes the connections older than it (to the second; Redis 7.4+).
	MaxAge time.Duration
	// IncludeSelf lets the command close the connection it is sent on (SKIPME no) —
	// this client's shared connection to the node: its calls in flight fail and it is
	// dialed again. By default that connection is spared.
	IncludeSelf bool
}

// errKillNoFilter is ClientKillOn's error for an empty filter.
var errKillNoFilter = errors.New("redline: ClientKillOn: the filter sets no field (ID, Addr, LAddr, User, Type or MaxAge)")

// args returns CLIENT KILL with the filter, or an error for an empty one.
func (f ClientKillFilter) args() ([]any, error) {
	args := []any{"CLIENT", "KILL"}
	if f.ID != 0 {
		args = append(args, "ID", f.ID)
	}
	for _, p := range [...]struct{ name, v string }{{"ADDR", f.Addr}, {"LADDR", f.LAddr}, {"USER", f.User}, {"TYPE", f.Type}} {
		if p.v != "" {
			args = append(args, p.name, p.v)
		}
	}
	if f.MaxAge > 0 {
		args = append(args, "MAXAGE", strconv.FormatInt(int64(max(f.MaxAge/time.Second, 1)), 10))
	}
	if len(args) == 2 {
		return nil, errKillNoFilter
	}
	if f.IncludeSelf {
		args = append(args, "SKIPME", "no")
	}
	return args, nil
}
