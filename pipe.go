package redline

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"

	"github.com/redline-go/redline/internal/cluster"
)

// Pipe collects commands to run together — as a pipeline (Client.Pipelined), as a
// transaction (Client.TxPipelined, Tx.Pipelined) — and gives each a Future of its
// typed reply. It has one method per typed method of Client (commands_gen.go), with the
// same parameters but the context (the pipe's run has one deadline), and Do for any
// other command:
//
//	var n Future[int64]
//	var v Future[string]
//	err := c.Pipelined(ctx, func(p *Pipe) error {
//		n = p.Incr("counter")
//		v = p.Get("greeting")
//		return nil
//	})
//	count, err := n.Result()
//
// A Pipe is filled by one goroutine, inside the function given to Pipelined (or
// TxPipelined, Tx.Pipelined); its commands' arguments must not change until it has run.
// A typed method refuses a []string or []any given as a value, as Client's do: that
// command is not sent (in a transaction, nothing is), and its Future holds the error.
type Pipe struct {
	chunk   []any     // where the next command's arguments go: its free capacity
	cmds    []Command // the commands queued, refused ones as empty ones; nil once run
	refused []error   // refused[i]: why command i is not sent; nil while none is refused
	n       int       // commands queued, refused ones included
	hasTx   bool      // Do queued MULTI, EXEC or DISCARD (refused by Pipelined)
	results []Result
	err     error // when the run left no Result per command: what every Future reports
	ran     bool
}

// TxPipe is the Pipe of a transaction (Client.TxPipelined): the same methods.
type TxPipe = Pipe

// errNotRun is what a Future reports before its pipe has run.
var errNotRun = errors.New("redline: Future read before its pipe ran (read it after Pipelined returns)")

// Future is the reply of one command queued in a Pipe, decoded as the Client method of
// the same name decodes it, once the pipe has run. Its zero value, and a Future read
// before its pipe ran, report an error. A Future is a small value: copy it freely.
type Future[T any] struct {
	p   *Pipe
	i   int
	dec func(Result) (T, error)
}

// newFuture is the Future of command i of p, decoded by dec.
func newFuture[T any](p *Pipe, i int, dec func(Result) (T, error)) Future[T] {
	return Future[T]{p: p, i: i, dec: dec}
}

// Result returns the command's decoded reply and its error: what the Client method of
// the same name would have returned (Nil for a null reply where it says so). It decodes
// the reply on each call.
func (f Future[T]) Result() (T, error) {
	if f.p == nil {
		var zero T
		return zero, errors.New("redline: zero Future (not returned by a Pipe method)")
	}
	return f.dec(f.p.result(f.i))
}

// Val returns the decoded reply, the zero value when the command failed.
func (f Future[T]) Val() T {
	v, _ := f.Result()
	return v
}

// Err returns the command's error, nil when it succeeded.
func (f Future[T]) Err() error {
	_, err := f.Result()
	return err
}

// Raw returns the command's undecoded Result.
func (f Future[T]) Raw() Result {
	if f.p == nil {
		return Result{err: errors.New("redline: zero Future (not returned by a Pipe method)")}
	}
	return f.p.result(f.i)
}

// Do queues a command given as Client.Do takes it (a []string or []any among the
// arguments is flattened into arguments of their own). Its Future holds the raw Result.
//
// Command: the one in args, queued.
func (p *Pipe) Do(args ...any) Future[Result] {
	if len(args) == 0 {
		return newFuture(p, p.refuse(errors.New("redline: Pipe.Do: empty command")), decodeResultFuture)
	}
	if isTxCommand(args[0]) {
		p.hasTx = true
	}
	return newFuture(p, p.push(append(p.args(), args...)), decodeResultFuture)
}

// isTxCommand reports whether name is MULTI, EXEC or DISCARD.
func isTxCommand(name any) bool {
	var s string
	switch v := name.(type) {
	case string:
		s = v
	case []byte:
		s = string(v)
	default:
		return false
	}
	return strings.EqualFold(s, "multi") || strings.EqualFold(s, "exec") || strings.EqualFold(s, "discard")
}

// Len returns how many commands p holds.
func (p *Pipe) Len() int { return p.n }

// Chunks of the arguments' memory: the first small (most pipelines are), the next ones
// of nextChunk arguments. Commands' arguments are never copied as the pipe grows.
const (
	firstChunk = 16
	nextChunk  = 64
)

// args returns an empty slice over the chunk's free capacity, for a method to append its
// command's arguments to; push takes it back. A command too long for the chunk's room
// gets an array of its own from append, and the chunk's room stays for the next one.
func (p *Pipe) args() []any {
	if cap(p.chunk)-len(p.chunk) < 4 {
		size := nextChunk
		if p.chunk == nil {
			size = firstChunk
		}
		p.chunk = make([]any, 0, size)
	}
	return p.chunk[len(p.chunk):]
}

// push queues args, as grown from what args returned, and returns the command's index.
func (p *Pipe) push(args []any) int {
	if p.ran {
		clear(args)
		return p.refuse(errPipeRan)
	}
	if n := len(p.chunk); len(args) > 0 && cap(p.chunk) > n && &args[0] == &p.chunk[:n+1][n] {
		p.chunk = p.chunk[:n+len(args)] // written in the chunk: take the room
	}
	p.cmds = append(p.cmds, Command{args: args[:len(args):len(args)]})
	if p.refused != nil {
		p.refused = append(p.refused, nil)
	}
	p.n++
	return p.n - 1
}

// pushTyped is push for a typed method's command: a list given as a value is refused,
// as doTyped refuses it.
func (p *Pipe) pushTyped(args []any) int {
	for i, a := range args {
		switch a.(type) {
		case []string, []any:
			// Not queued: drop what the chunk's room would keep alive (the command, or
			// its part written there before append moved it).
			clear(args)
			clear(p.chunk[len(p.chunk):cap(p.chunk)])
			return p.refuse(typedValueError(i, reflect.TypeOf(a)))
		}
	}
	return p.push(args)
}

// errPipeRan is the error of a command queued in a pipe that has run.
var errPipeRan = errors.New("redline: command queued in a Pipe that has already run (not sent)")

// refuse records a command that is not sent, for err.
func (p *Pipe) refuse(err error) int {
	i := p.n
	if !p.ran {
		p.cmds = append(p.cmds, Command{})
	}
	if p.refused == nil {
		p.refused = make([]error, i, i+1)
	}
	p.refused = append(p.refused, err)
	p.n++
	return i
}

// commands returns the commands to send, and for each its index in p (nil when all are
// sent, and the commands are p's own).
func (p *Pipe) commands() ([]Command, []int) {
	if p.refused == nil {
		return p.cmds, nil
	}
	out := make([]Command, 0, len(p.cmds))
	idx := make([]int, 0, len(p.cmds))
	for i, c := range p.cmds {
		if p.refused[i] == nil {
			out = append(out, c)
			idx = append(idx, i)
		}
	}
	return out, idx
}

// firstRefused returns the first refused command's error, nil when none is.
func (p *Pipe) firstRefused() error {
	for _, err := range p.refused {
		if err != nil {
			return err
		}
	}
	return nil
}

// setResults records a run's results (rs[k] is command idx[k]'s, or command k's when idx
// is nil), and err for a run that left none. The commands' arguments are released: a
// Future kept does not keep them alive.
func (p *Pipe) setResults(rs []Result, idx []int, err error) {
	p.ran, p.err = true, err
	p.cmds, p.chunk = nil, nil
	if rs == nil {
		if err == nil {
			p.err = errors.New("redline: the pipe's run returned no replies")
		}
		return
	}
	if idx == nil && p.refused == nil {
		p.results = rs
		return
	}
	p.results = make([]Result, p.n)
	for i, e := range p.refused {
		if e != nil {
			p.results[i] = Result{err: e}
		}
	}
	for k, r := range rs {
		i := k
		if idx != nil {
			i = idx[k]
		}
		p.results[i] = r
	}
}

// fillPipe runs fn on a new Pipe; when fn fails, the pipe is marked run, nothing sent,
// its Futures reporting fn's error.
func fillPipe(fn func(p *Pipe) error) (*Pipe, error) {
	p := new(Pipe)
	if err := fn(p); err != nil {
		p.notSent(err)
		return nil, err
	}
	return p, nil
}

// firstFailure returns the first error among rs, in order, Nil not counting as one.
func firstFailure(rs []Result) error {
	for _, r := range rs {
		if err := r.Err(); err != nil && !errors.Is(err, Nil) {
			return err
		}
	}
	return nil
}

// notSent marks p run without sending anything, because fn returned err.
func (p *Pipe) notSent(err error) {
	p.setResults(nil, nil, fmt.Errorf("redline: not sent: the pipe's function returned an error: %w", err))
}

// result returns command i's Result.
func (p *Pipe) result(i int) Result {
	switch {
	case i < 0 || i >= p.n:
		return Result{err: errors.New("redline: Future of another pipe")}
	case p.refused != nil && p.refused[i] != nil:
		return Result{err: p.refused[i]}
	case !p.ran:
		return Result{err: errNotRun}
	case p.results == nil:
		return Result{err: p.err}
	case i >= len(p.results):
		return Result{err: errPipeRan}
	}
	return p.results[i]
}

// Pipelined runs the commands fn queues on p as DoMulti runs its commands: grouped by
// node, each group one pipeline, in the caller's order, under one deadline (ctx's and
// Options.CommandTimeout), split and merged and redirected as DoMulti says; each command
// succeeds or fails by itself. Read the Futures after Pipelined returns. If fn returns
// an error, nothing is sent and that error is returned. Otherwise Pipelined returns the
// first error of a command, in the order queued (a Nil reply is not an error here: its
// Future reports it), or nil; each Future has its own.
//
// Commands: those queued, pipelined per node as by DoMulti.
func (c *Client) Pipelined(ctx context.Context, fn func(p *Pipe) error) error {
	if c.e.Closed() {
		return ErrClosed
	}
	p, err := fillPipe(fn)
	if err != nil {
		return err
	}
	if p.n == 0 {
		p.ran = true
		return nil
	}
	if p.hasTx {
		err := &ConnStateError{Command: "MULTI", Use: "use TxPipelined for a transaction, or DoMulti with Cmd(\"MULTI\"), the commands, Cmd(\"EXEC\")"}
		p.setResults(nil, nil, err)
		return err
	}
	cmds, idx := p.commands()
	var rs []Result
	if len(cmds) > 0 {
		rs = c.doMulti(ctx, cmds, p)
	} else {
		rs = []Result{}
	}
	p.setResults(rs, idx, nil)
	return firstFailure(p.results)
}

// TxPipelined runs the commands fn queues on p as one transaction, as Exec runs its
// commands (MULTI, the commands, EXEC, on the transaction's connection; ErrTxFailed if
// a watched key changed). Read the Futures after it returns: when the transaction did
// not run, each reports the error TxPipelined returns. If fn returns an error, or a
// command was refused when queued, nothing is sent and that error is returned.
//
// Commands: MULTI, those queued, EXEC, written together on the transaction's dedicated
// connection.
func (tx *Tx) TxPipelined(ctx context.Context, fn func(p *Pipe) error) error {
	p, err := fillPipe(fn)
	if err != nil {
		return err
	}
	if err := p.firstRefused(); err != nil {
		p.setResults(nil, nil, err)
		return err
	}
	if p.n == 0 { // nothing to send: the WATCH stays
		p.ran = true
		return nil
	}
	rs, err := tx.Exec(ctx, p.cmds...)
	p.setResults(rs, nil, err)
	return err
}

// Pipelined runs the commands fn queues on p at once on the transaction's connection,
// written together, outside MULTI — as Do runs one: reads of the watched keys, WATCH of
// more keys (as go-redis's Tx.Pipelined; TxPipelined runs MULTI … EXEC). Each command
// is checked as Do checks it; if one fails the check, or fn returns an error, nothing
// is sent and that error is returned. Otherwise Pipelined returns the first failed
// command's error (Nil is not one), each Future its own.
//
// Commands: those queued, on the transaction's dedicated connection.
func (tx *Tx) Pipelined(ctx context.Context, fn func(p *Pipe) error) error {
	p, err := fillPipe(fn)
	if err != nil {
		return err
	}
	fail := func(err error) error {
		p.setResults(nil, nil, err)
		return err
	}
	if err := p.firstRefused(); err != nil {
		return fail(err)
	}
	if tx.done {
		return fail(errTxDone)
	}
	if p.n == 0 {
		p.ran = true
		return nil
	}
	cmds, argErrs := expandCmds(p.cmds)
	batch := make([][]any, len(cmds))
	for i, cmd := range cmds {
		if err := argErrs[i]; err != nil {
			return fail(err)
		}
		if err := tx.checkNow(cmd.args); err != nil {
			return fail(err)
		}
		batch[i] = cmd.args
	}
	run := func() error {
		if err := tx.ready(ctx); err != nil {
			return fail(err)
		}
		w := tx.c.e.Waiter(ctx)
		defer w.Release()
		vs, err := cluster.ConnExecMulti(tx.cn, &w, 0, batch)
		if err != nil {
			tx.dead = true // replies may still come: the connection is not reused
			return fail(err)
		}
		rs := make([]Result, len(vs))
		for i, v := range vs {
			rs[i] = Result{val: v}
		}
		p.setResults(rs, nil, nil)
		return firstFailure(rs)
	}
	if !tx.c.hooked {
		return run()
	}
	tx.c.aroundCommand(ctx, CommandStart{Name: "pipeline", Commands: len(batch)}, func(end *CommandEnd) {
		err = run()
		end.Slot, end.Err = tx.slot, err
		if tx.n != nil {
			end.Node = tx.n.Addr()
		}
	})
	return err
}
