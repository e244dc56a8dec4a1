package typedgen

import (
	"fmt"
	"slices"
	"strings"

	"github.com/redline-go/redline/internal/command"
)

// resolved is an entry checked against the command table.
type resolved struct {
	*entry
	info    *command.Info // the command, or subcommand, sent
	altInfo *command.Info // the alternative form's
}

// check resolves every entry against the table and reports every problem found.
func check(entries []*entry, t *command.Table) ([]resolved, error) {
	var errs []string
	names := map[string]int{}
	var out []resolved
	for _, e := range entries {
		if first, dup := names[e.name]; dup {
			errs = append(errs, fmt.Sprintf("spec.txt:%d: %s is already defined on line %d", e.line, e.name, first))
			continue
		}
		names[e.name] = e.line
		r, err := resolve(e, t)
		if err != nil {
			errs = append(errs, fmt.Sprintf("spec.txt:%d: %s: %v", e.line, e.name, err))
			continue
		}
		out = append(out, r)
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("%s", strings.Join(errs, "\n"))
	}
	return out, nil
}

func resolve(e *entry, t *command.Table) (resolved, error) {
	r := resolved{entry: e}
	// A command, or subcommand, the table lacks is looked up among the newer commands
	// (newer.go); its doc must then say which Redis version has it.
	lookup := func(name string) (*command.Info, error) {
		in := t.LookupName(name)
		if in == nil {
			return lookupNewer(e, name, "")
		}
		if len(in.Subcommands) == 0 {
			return in, nil
		}
		if len(e.tokens) == 0 || e.tokens[0].isParam() {
			return nil, fmt.Errorf("%s is a container command: name its subcommand", strings.ToUpper(name))
		}
		sub := in.Subcommand(e.tokens[0].literal)
		if sub == nil {
			return lookupNewer(e, name, e.tokens[0].literal)
		}
		return sub, nil
	}
	var err error
	if r.info, err = lookup(strings.ToLower(e.cmd[0])); err != nil {
		return r, err
	}
	if len(r.info.Subcommands) == 0 && strings.Contains(r.info.Name, "|") {
		e.cmd = append(e.cmd, e.tokens[0].literal)
		e.tokens = e.tokens[1:]
	}
	if e.alt != "" {
		if r.altInfo, err = lookup(strings.ToLower(e.alt)); err != nil {
			return r, err
		}
	}

	// Parameters: one variadic at most, last in Go; ttl and time go with an
	// alternative form, one each.
	var variadic, units int
	for _, tk := range e.tokens {
		if !tk.isParam() {
			continue
		}
		if tk.t.variadic {
			variadic++
		}
		if tk.typ == "ttl" || tk.typ == "time" {
			units++
		}
	}
	if variadic > 1 {
		return r, fmt.Errorf("%d variadic parameters: Go allows one", variadic)
	}
	if (e.alt != "") != (units == 1) || units > 1 {
		return r, fmt.Errorf("a COMMAND/ALT form takes exactly one ttl or time parameter, and a ttl or time parameter needs one")
	}
	if e.ref != "" {
		var ok bool
		for _, tk := range e.tokens {
			ok = ok || tk.name == e.ref && tk.t.variadic && tk.t.goType == "string"
		}
		if !ok {
			return r, fmt.Errorf("reply %s:%s must name a variadic string parameter", e.ret, e.ref)
		}
	}

	// Arity: the fewest arguments the method sends must satisfy it; a positive arity
	// also needs every argument fixed.
	for _, in := range []*command.Info{r.info, r.altInfo} {
		if in == nil {
			continue
		}
		if err := checkArity(e, in); err != nil {
			return r, err
		}
	}

	// Keys: the arguments sent as keys must be exactly those the key specs find.
	if sample, keys, ok := e.sample(); ok {
		for _, in := range []*command.Info{r.info, r.altInfo} {
			if in == nil {
				continue
			}
			found, valid := in.KeyIndexes(sample, nil)
			if !valid || !slices.Equal(found, keys) {
				return r, fmt.Errorf("%s finds keys at %v of %v, the spec sends keys at %v", strings.ToUpper(in.Name), found, sample, keys)
			}
		}
	}
	return r, nil
}

func checkArity(e *entry, in *command.Info) error {
	count, fixed := len(e.cmd), true
	for _, tk := range e.tokens {
		if !tk.isParam() {
			count++
			continue
		}
		count += tk.t.min
		fixed = fixed && tk.t.fixed
	}
	switch {
	case in.Arity > 0 && !fixed:
		return fmt.Errorf("%s has arity %d (exactly): its arguments must all be fixed, but the spec sends a variable number", strings.ToUpper(in.Name), in.Arity)
	case in.Arity > 0 && count != in.Arity:
		return fmt.Errorf("%s has arity %d, the spec sends %d arguments", strings.ToUpper(in.Name), in.Arity, count)
	case in.Arity < 0 && count < -in.Arity:
		return fmt.Errorf("%s needs at least %d arguments, the spec may send only %d", strings.ToUpper(in.Name), -in.Arity, count)
	}
	return nil
}

// sample returns the arguments the entry sends for sample parameters, and the positions
// of those sent as keys; ok is false when a struct parameter makes them unknown.
func (e *entry) sample() (args []any, keys []int, ok bool) {
	for _, w := range e.cmd {
		args = append(args, w)
	}
	for _, tk := range e.tokens {
		if !tk.isParam() {
			args = append(args, tk.literal)
			continue
		}
		if tk.t.isStruct() {
			return nil, nil, false
		}
		sample := tk.t.sample
		if tk.t.variadic {
			sample = append(slices.Clone(sample), sample...)
		}
		for _, s := range sample {
			switch s {
			case "K":
				keys = append(keys, len(args))
				args = append(args, fmt.Sprintf("key%d", len(args)))
			case "V":
				args = append(args, "value")
			default:
				args = append(args, s)
			}
		}
	}
	return args, keys, true
}
