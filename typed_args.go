package redline

import (
	"context"
	"fmt"
	"reflect"

	"github.com/redline-go/redline/internal/cluster"
	"github.com/redline-go/redline/resp"
)

// The typed methods (commands_gen.go) build their command argument by argument: a value
// parameter (Set's value, MSet's and HSet's map values, RPush's values…) is one
// argument. They send it with doTyped, not Do: Do flattens a []string or []any into
// arguments of their own, which for a value would let its elements become other
// arguments — a JSON array decoded into an any given to MSet writing a key the caller
// never named (MSET a x victim owned), Set(k, []string{"v", "NX"}) sending SET k v NX.
// A slice given as a value is refused instead, nothing sent, as go-redis refuses it.

// doTyped is Do for the typed methods: args are the command as the method built it,
// never flattened; a []string or []any among them is an error (see typedValueError).
func (c *Client) doTyped(ctx context.Context, args ...any) Result {
	for i, a := range args {
		switch a.(type) {
		case []string, []any:
			return Result{err: typedValueError(i, reflect.TypeOf(a))}
		}
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

// valueListError is the error of a typed method given a list ([]string or []any) where
// the command takes one value: the typed methods send each value as one argument and do
// not flatten a list into several (Do does). errors.As finds its *resp.ArgTypeError.
type valueListError struct {
	Arg *resp.ArgTypeError // the argument: its index in the command (0 is the name), its type
}

// Error says which argument is a list and what to do instead.
func (e *valueListError) Error() string {
	return fmt.Sprintf("redline: argument %d of the command is a %s, a list where one value is expected: a typed method does not flatten it into arguments of their own (encode it into one value, or send the elements with Do)", e.Arg.Index, e.Arg.Type)
}

// Unwrap returns the *resp.ArgTypeError.
func (e *valueListError) Unwrap() error { return e.Arg }

// typedValueError builds the error for argument i of type t. It takes the type, not the
// argument: the caller's arguments must not escape to the heap (TestAllocsPerCall).
func typedValueError(i int, t reflect.Type) error {
	return &valueListError{Arg: &resp.ArgTypeError{Index: i, Type: t}}
}
