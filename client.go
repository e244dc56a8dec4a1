package redline

import (
	"context"
	"errors"
	"slices"
	"strings"
	"unsafe"

	"github.com/redline-go/redline/internal/cluster"
	"github.com/redline-go/redline/internal/command"
	"github.com/redline-go/redline/resp"
)

// Client is a Redis Cluster client. It is safe for concurrent use by any number of
// goroutines; create one per cluster and share it.
//
// Client is the API: it checks and records calls (hooks) and hands them to the
// routing engine (internal/cluster), which owns the slot table, the nodes, redirects,
// retries and refreshes.
type Client struct {
	e      *cluster.Engine
	opts   Options
	hooked bool // a command hook is set
}

// NewClient connects to the cluster: it asks the seeds in Options.Addrs for the
// topology (CLUSTER SHARDS, or CLUSTER SLOTS on older servers) — three at once, in
// random order, one more each time one fails or 50ms pass without an answer — and
// returns as soon as one answers. Other nodes are not dialed until a command needs
// them, so nodes that are down or unreachable never delay it. A seed that is a
// standalone server makes the client a standalone one (see Shape); with
// Options.Sentinel, the Sentinels name the server instead (see SentinelOptions). ctx
// bounds the call (DialTimeout + CommandTimeout when it has no deadline).
func NewClient(ctx context.Context, opts Options) (*Client, error) {
	o, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	c := &Client{opts: o, hooked: hooksBuilt && o.Hooks.commandHooks()}
	e, err := cluster.New(ctx, o.engineConfig())
	if err != nil {
		return nil, err
	}
	c.e = e
	return c, nil
}

// Close closes every connection and stops all background work; it returns when every
// goroutine the client started has ended. Calls after Close fail with ErrClosed.
func (c *Client) Close() error { return c.e.Close() }

// Do runs one command on the cluster and returns its result. Arguments are strings,
// []byte, integers, floats, bools, time.Duration (sent in nanoseconds, as go-redis
// does: for a TTL or a timeout use the typed method, or convert it yourself),
// time.Time (RFC3339Nano text, as go-redis sends it), and []string or []any, flattened
// into the command (Do(ctx, "DEL", keys) with keys a []string is DEL k1 k2 …, split by
// slot as such); resp.FlattenArgs and resp.CheckArgs state the rules. Any other type is
// an error, and nothing is sent. An encoding.BinaryMarshaler is refused here (send the
// bytes of its MarshalBinary): calling a method of an argument would make the compiler
// put every caller's arguments on the heap, one allocation per argument on every call.
// DoMulti, TxPipelined and Tx.Exec accept one (see Cmd). The command goes to the node that
// owns its keys' slot (keyless commands to a random primary; commands the server's
// tips mark for all shards or all nodes to every one of them, their replies merged;
// MGET, MSET, DEL, UNLINK, EXISTS and TOUCH split by slot: one command per slot, in
// parallel, atomic per slot only — when a part fails, others may have been applied,
// and the error, a *SplitError, says which keys were and which not; Options.Split
// keeps them whole, failing with *CrossSlotError across slots). A command that would
// change the state of the connection it is sent on (MULTI, SUBSCRIBE, HELLO, SELECT,
// CLIENT REPLY, …: see the package documentation) is not sent: it fails with a
// *ConnStateError naming the API to use instead. MOVED and ASK are
// followed, TRYAGAIN, CLUSTERDOWN, LOADING and MASTERDOWN retried with backoff, all
// within the call's deadline and Options.MaxAttempts.
//
// Blocking commands (BLPOP, BRPOP, BLMOVE, BRPOPLPUSH, BLMPOP, BZPOPMIN, BZPOPMAX,
// BZMPOP, XREAD and XREADGROUP with BLOCK, WAIT, WAITAOF) run on a dedicated connection
// of the node (redirected by ASK too), and their deadline is the context's: the
// server's own wait is what the caller asked for, so Options.CommandTimeout bounds only
// the rest. BLPOP q 0 with a context without deadline waits for its element however
// long that takes; BLPOP q 5 waits at most about 5s (plus the 100ms by which a server
// may be late) plus CommandTimeout. A node that stops answering meanwhile is noticed
// within two to three times Options.ReplyTimeout (its shared connection is checked
// while the command waits) and a broken connection at once; the error says so, and
// that the command may have taken what it waited for. When the context ends first, a
// command
// that takes what it returns (the pops, BLMOVE, XREADGROUP…) is ended on the server
// before the call returns (CLIENT UNBLOCK): what it took is returned, or nothing was
// taken and the error says so (SafeToRetry). WAIT and WAITAOF count the
// acknowledgements of every write the node executed before them, the caller's included
// (a PING goes first on their connection to record that offset).
func (c *Client) Do(ctx context.Context, args ...any) Result {
	args, err := resp.FlattenArgs(args)
	if err != nil {
		return Result{err: err}
	}
	if len(args) == 0 {
		return Result{err: errors.New("redline: Do: empty command")}
	}
	if c.e.Closed() { // before the hooks: a call on a closed client is not a call
		return Result{err: ErrClosed}
	}
	if c.hooked {
		var tr cluster.Trace
		return c.doTraced(ctx, args, &tr)
	}
	var tr cluster.Trace
	return resultOf(c.e.Do(ctx, args, &tr))
}

// Command is one command for DoMulti; build it with Cmd.
type Command struct {
	args []any
}

// Cmd builds a command for DoMulti (or Tx.Exec) from its name and arguments: of the
// types Do takes, and encoding.BinaryMarshaler too (sent as the bytes its MarshalBinary
// returns, called once when the command runs; resp.ExpandArgs states the rules).
func Cmd(args ...any) Command { return Command{args: args} }

// DoMulti runs several commands under one deadline and returns one Result per command,
// in the caller's order. The commands are not a transaction: each succeeds or fails by
// itself. They take effect in the caller's order wherever the order can matter:
//
//   - Commands are grouped by the node that owns their slot; each group is sent as one
//     pipeline, in the caller's order, the groups in parallel (commands on different
//     nodes have no keys in common). Keyless commands all go to one node. A read of a
//     slot that any command of the same DoMulti writes — before or after the read, in a
//     transaction, blocking or split — goes to the primary, in its place in the
//     primary's pipeline, whatever Options.ReadFrom says; a keyless write (FLUSHALL,
//     FLUSHDB…) or a command the table does not know counts as writing every slot.
//   - A command with an argument of a type Cmd does not take (or whose MarshalBinary
//     fails) fails alone, unsent; in a transaction, or as its WATCH or MULTI, it fails
//     the whole transaction, WATCH included, unsent: each of its commands gets that
//     argument's error.
//   - A multi-key command split by slot (MGET, MSET, DEL, EXISTS, UNLINK, TOUCH) is
//     sent as one part per slot, each at the command's place in its node's pipeline;
//     a fan-out command (DBSIZE, FLUSHALL, SCRIPT LOAD, …) as one part in every target
//     node's pipeline. The parts' replies are merged as Do merges them (a split
//     command some of whose parts failed: a *SplitError, as from Do; Options.Split
//     keeps it whole).
//   - Commands that cannot be pipelined are barriers: everything before them completes
//     first, everything after starts after them. They are blocking commands (BLPOP,
//     XREAD BLOCK, WAIT, …: run like Do, on a dedicated connection, their wait on the
//     server bounded by ctx and their own timeout, not by CommandTimeout; the time they
//     take is not counted in the CommandTimeout of the commands after them) and
//     transactions.
//   - What comes back MOVED is sent again, in a pipeline to the slot's new owner, in
//     the caller's order per node, while attempts are left. What then still needs it —
//     redirected by ASK, asked to retry (TRYAGAIN, CLUSTERDOWN, LOADING…), failed before
//     it was written — is redone one command at a time, like Do, in the caller's order;
//     all of it after the pipelines it was part of and before the next barrier.
//
// A transaction is written as users of Redis write it: Cmd("MULTI"), the commands,
// Cmd("EXEC") (or Cmd("DISCARD")). It runs atomically on a dedicated connection to the
// node of its keys' slot (all its keys must be in one slot, else every command of it
// fails with a *CrossSlotError and nothing is sent). Its Results are the server's: OK
// for MULTI, QUEUED (or the error the command was rejected with) for each command, and
// EXEC's array of replies (nil when a watched key changed; an EXECABORT error when a
// command was rejected). A MOVED answer while queuing — nothing ran — is followed once.
// A MULTI without EXEC or DISCARD fails with every command after it, unsent. A WATCH
// followed (after other commands, possibly) by such a transaction belongs to it: WATCH,
// the commands between, and the transaction run in one go on the dedicated connection,
// and EXEC answers nil when a watched key changed meanwhile (for a WATCH that can act
// on what it read, use Client.Watch). WATCH and the commands between go first, then the
// transaction (one round trip more): if a WATCH was not answered OK (ASK during a
// migration, say), the transaction is not sent and MULTI, its commands and EXEC fail
// with a *TxNotRunError. A WATCH with no transaction after it fails with a
// *ConnStateError.
//
// A transaction runs on one node: a command that runs on every node (KEYS, DBSIZE,
// FLUSHALL, SCRIPT LOAD…; PING excepted) is refused in it, and so is the whole
// transaction, unsent. A transaction does not follow ASK: during a migration of its
// slot, a command whose key has left the source answers ASK when queued and EXEC
// answers EXECABORT (nothing ran); send it again once the migration is over.
//
// Other commands that change their connection's state (WATCH, SUBSCRIBE, HELLO, …)
// fail with a *ConnStateError, as with Do, and are not barriers.
//
// Order hazards that remain: a command redone after the pipeline runs after the later
// commands of the same pipeline that succeeded at once. For single-key commands this
// cannot reorder one key's commands in a stable cluster — a node that answers MOVED or
// ASK for a key answers so for every later command on it — but it can when the node's
// state changes between two commands of the pipeline:
//
//   - a multi-key command answered TRYAGAIN (some of its keys had already migrated,
//     others not) followed by a command on one of its keys still on the source node:
//     the redone multi-key command sees that later write;
//   - a command answered MOVED, CLUSTERDOWN or LOADING by a node that gains the slot,
//     leaves CLUSTERDOWN or finishes loading before the next command on the same key,
//     which then succeeds first.
//
// During a resharding or a failover, send commands whose relative order matters in
// separate DoMulti calls, or as a transaction.
//
// Commands: MULTI, EXEC, DISCARD and WATCH as the caller writes them, run as described
// above on a dedicated connection; the other commands given, pipelined per node
// (ASKING before one sent again on ASK).
func (c *Client) DoMulti(ctx context.Context, cmds ...Command) (results []Result) {
	return c.doMulti(ctx, cmds, nil)
}

// doMulti is DoMulti; the hooks count in the commands of p refused unsent, and see the
// first one's error when no command sent failed (p is nil for DoMulti).
func (c *Client) doMulti(ctx context.Context, cmds []Command, p *Pipe) (results []Result) {
	cmds, argErrs := expandCmds(cmds)
	if !c.hooked {
		results = resultsOf(c.e.DoMulti(ctx, commandArgs(cmds), nil))
		failArgs(results, argErrs) // the engine refused them, unsent: say why
		return results
	}
	n := len(cmds)
	if p != nil {
		n = p.n
	}
	c.aroundCommand(ctx, CommandStart{Name: "pipeline", Commands: n}, func(end *CommandEnd) {
		var mt cluster.MultiTrace
		results = resultsOf(c.e.DoMulti(ctx, commandArgs(cmds), &mt))
		failArgs(results, argErrs) // before the hooks see the errors
		end.Attempts += int(mt.Retried.Load())
		end.Redirects, end.Asks = int(mt.Redirects.Load()), int(mt.Asks.Load())
		for _, r := range results {
			if err := r.Err(); err != nil {
				end.Err = err
				break
			}
		}
		if end.Err == nil && p != nil {
			end.Err = p.firstRefused()
		}
	})
	return results
}

// TxPipelined runs the commands fn queues on p as one MULTI … EXEC transaction, without
// WATCH (use Watch for an optimistic transaction), on a dedicated connection to the node
// of their keys' slot; all keys must be in one slot (else a *CrossSlotError, nothing
// sent), and a command that runs on every node (KEYS, DBSIZE, FLUSHALL…) is refused
// (nothing sent). A transaction does not follow ASK (see DoMulti). It returns one Result
// per queued command: its reply within EXEC's; the Futures p's methods returned hold the
// same replies, decoded (read them after TxPipelined returns; when the transaction did
// not run, each reports the error returned). A command the server rejected when queuing
// aborts the whole transaction (EXECABORT), returned as the error with the rejected
// command's Result set to its rejection, the others' to that error. A MOVED answer while
// queuing — nothing ran — is followed once. If fn returns an error, nothing is sent and
// that error is returned. Arguments are as for Cmd; one that cannot be converted (its
// MarshalBinary fails), or a list given to a typed method as a value, fails the
// transaction, and nothing is sent.
//
// Commands: MULTI, the queued commands, EXEC, written together on a dedicated
// connection to the slot's primary.
func (c *Client) TxPipelined(ctx context.Context, fn func(p *TxPipe) error) ([]Result, error) {
	if c.e.Closed() {
		return nil, ErrClosed
	}
	p, err := fillPipe(fn)
	if err != nil {
		return nil, err
	}
	if p.n == 0 {
		p.ran = true
		return nil, nil
	}
	if err := p.firstRefused(); err != nil {
		p.setResults(nil, nil, err)
		return nil, err // nothing sent
	}
	pcmds, _ := p.commands()
	cmds, argErrs := expandCmds(pcmds)
	for i := range cmds {
		if err := argErrs[i]; err != nil {
			p.setResults(nil, nil, err)
			return nil, err // nothing sent
		}
	}
	body := commandArgs(cmds)
	run := func() ([]Result, error) {
		rs, err := c.e.TxPipelined(ctx, body)
		results := resultsOf(rs)
		p.setResults(slices.Clone(results), nil, err) // the Futures' own: the caller may change results
		return results, err
	}
	if !c.hooked {
		return run()
	}
	var results []Result
	c.aroundCommand(ctx, CommandStart{Name: "multi", Commands: len(body)}, func(end *CommandEnd) {
		results, err = run()
		end.Err = err
	})
	return results, err
}

// commandName returns the command's name for the hooks: the command table's
// ("get", "cluster|shards"), or the first argument in lower case for a command
// the table does not know.
func commandName(args []any) string {
	if info := command.Lookup(args); info != nil {
		return info.Name
	}
	return strings.Clone(strings.ToLower(cluster.ArgString(args[0]))) // the hook may keep it: never alias the caller's
}

// resultOf is the Result of an engine's Reply: the same fields (see resultsOf).
func resultOf(r cluster.Reply) Result {
	return Result{val: r.Value(), err: r.CallErr(), elem: r.Elem()}
}

// resultsOf views the engine's replies as Results, without copying: Result and
// cluster.Reply have the same fields in the same order (TestResultLayout checks it).
func resultsOf(rs []cluster.Reply) []Result {
	if rs == nil {
		return nil
	}
	return unsafe.Slice((*Result)(unsafe.Pointer(unsafe.SliceData(rs))), len(rs))
}

// commandArgs views commands as their argument lists, without copying: a Command is
// its argument list and nothing else.
func commandArgs(cmds []Command) [][]any {
	if cmds == nil {
		return nil
	}
	return unsafe.Slice((*[]any)(unsafe.Pointer(unsafe.SliceData(cmds))), len(cmds))
}

// doTraced is Do (hooks included) recording the call in tr.
func (c *Client) doTraced(ctx context.Context, args []any, tr *cluster.Trace) (r Result) {
	if c.e.Closed() {
		return Result{err: ErrClosed}
	}
	if !c.hooked {
		return resultOf(c.e.Do(ctx, args, tr))
	}
	c.aroundCommand(ctx, CommandStart{Name: commandName(args), Commands: 1}, func(end *CommandEnd) {
		r = resultOf(c.e.Do(ctx, args, tr))
		end.Slot, end.Attempts, end.Redirects, end.Asks, end.Err = tr.Slot, tr.Attempts, tr.Redirects, tr.Asks, r.Err()
		end.Node, end.Zone = tr.NodeAddr(), tr.NodeZone()
	})
	return r
}
