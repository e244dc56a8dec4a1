package redline

import (
	"github.com/redline-go/redline/resp"
)

// Arguments of the types that need a conversion before they are sent ([]string and
// []any, flattened; encoding.BinaryMarshaler, marshaled) are converted once, at the
// entry of the API, before the command table, key positions and slot routing see them.
// Do and Tx.Do flatten slices (resp.FlattenArgs) but do not call MarshalBinary (the
// typed methods flatten nothing: a value is one argument, a slice there is refused; see
// doTyped): a method call on an argument would make the compiler move every
// caller's arguments to the heap (TestAllocsPerCall). DoMulti, TxPipelined, Tx.Exec and
// the per-node calls, whose arguments are kept past the call anyway, also marshal
// (resp.ExpandArgs). A call without such an argument is not copied.

// expandCmds returns cmds with each command's arguments expanded (resp.ExpandArgs),
// cmds itself when none needs it; errs[i] is the error of command i, whose arguments
// are then left as they were (the engine refuses them: the caller replaces the error).
func expandCmds(cmds []Command) (out []Command, errs map[int]error) {
	out = cmds
	for i, cmd := range cmds {
		args, err := resp.ExpandArgs(cmd.args)
		if err != nil {
			if errs == nil {
				errs = map[int]error{}
			}
			errs[i] = err
			continue
		}
		if len(cmd.args) == 0 || len(args) == len(cmd.args) && &args[0] == &cmd.args[0] {
			continue // unchanged
		}
		if &out[0] == &cmds[0] {
			out = make([]Command, len(cmds))
			copy(out, cmds)
		}
		out[i] = Command{args: args}
	}
	return out, errs
}

// failArgs gives the commands of bad their expansion errors (a failed MarshalBinary) in
// place of the engine's, which only saw an argument of a type it does not send. The
// engine gives the other commands of a transaction (WATCH, MULTI, its commands, EXEC)
// that same error, unsent: they get the real one too (the first bad command's, when a
// transaction has several).
func failArgs(results []Result, bad map[int]error) {
	if bad == nil {
		return
	}
	for i := range results { // in order
		err, ok := bad[i]
		if !ok {
			continue
		}
		if old, ok := results[i].err.(*resp.ArgTypeError); ok {
			for k := range results {
				if e, ok := results[k].err.(*resp.ArgTypeError); ok && e == old {
					results[k] = Result{err: err}
				}
			}
		}
		results[i] = Result{err: err}
	}
}
