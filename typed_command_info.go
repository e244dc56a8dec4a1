package redline

import (
	"fmt"

	"github.com/redline-go/redline/resp"
)

// The replies of COMMAND INFO, COMMAND DOCS and MODULE LIST, typed (the parts a script
// reads; Do returns the rest).

// CommandInfo is a command as COMMAND INFO describes it.
type CommandInfo struct {
	Name  string // lower case; a subcommand's is "container|sub"
	Arity int64  // the number of arguments, the name included; -N means at least N
	// Flags are the command's flags: "write", "readonly", "denyoom", "admin"…
	Flags []string
	// FirstKey, LastKey and Step are the legacy key positions (0 for no key; LastKey
	// negative counts from the end).
	FirstKey, LastKey, Step int64
	// ACLCategories are the command's ACL categories ("@read", "@string"…; Redis 6.0+).
	ACLCategories []string
	// Tips are the command's hints for clients ("request_policy:all_shards"…; Redis 7.0+).
	Tips []string
	// Subcommands are a container's subcommands (Redis 7.0+).
	Subcommands []CommandInfo
}

// CommandDoc is a command's documentation as COMMAND DOCS gives it (Redis 7.0+); the
// arguments and history are left out (Do returns them).
type CommandDoc struct {
	Summary    string
	Since      string // the version that added it
	Group      string // "string", "cluster"…
	Complexity string
	// DocFlags are "deprecated" and "syscmd" when they apply.
	DocFlags []string
	// DeprecatedSince and ReplacedBy say, for a deprecated command, since when and what
	// to use instead.
	DeprecatedSince, ReplacedBy string
	// Subcommands are a container's subcommands' docs, by name ("config|get").
	Subcommands map[string]CommandDoc
}

// ModuleInfo is a module loaded on a node (MODULE LIST).
type ModuleInfo struct {
	Name    string
	Version int64
	Path    string   // the file it was loaded from (Redis 7.0+)
	Args    []string // the arguments it was loaded with (Redis 7.0+)
}

// decodeCommandInfos decodes COMMAND INFO: one array per command, null for a name the
// server does not know; the known ones by name.
func decodeCommandInfos(r Result) (map[string]CommandInfo, error) {
	v, err := r.typed()
	if err != nil {
		return nil, err
	}
	if !isList(v) {
		return nil, typeErr(v, "an array of commands")
	}
	out := make(map[string]CommandInfo, len(v.Elems))
	for _, e := range v.Elems {
		if e.IsNull() {
			continue
		}
		ci, err := commandInfo(e, 0)
		if err != nil {
			return nil, err
		}
		out[ci.Name] = ci
	}
	return out, nil
}

// commandInfo decodes one command's array; depth bounds the subcommands' nesting.
func commandInfo(v resp.Value, depth int) (CommandInfo, error) {
	if !isList(v) || len(v.Elems) < 6 {
		return CommandInfo{}, typeErr(v, "a command's [name, arity, flags, first, last, step, …]")
	}
	var ci CommandInfo
	var err error
	e := v.Elems
	bad := func(err error) (CommandInfo, error) {
		return CommandInfo{}, fmt.Errorf("redline: COMMAND INFO %q: %w", ci.Name, err)
	}
	if ci.Name, err = valueText(e[0]); err != nil {
		return bad(err)
	}
	if ci.Arity, err = valueInt(e[1]); err != nil {
		return bad(err)
	}
	if ci.Flags, err = textList(e[2]); err != nil {
		return bad(err)
	}
	for i, p := range []*int64{&ci.FirstKey, &ci.LastKey, &ci.Step} {
		if *p, err = valueInt(e[3+i]); err != nil {
			return bad(err)
		}
	}
	if len(e) > 6 {
		if ci.ACLCategories, err = textList(e[6]); err != nil {
			return bad(err)
		}
	}
	if len(e) > 7 {
		if ci.Tips, err = textList(e[7]); err != nil {
			return bad(err)
		}
	}
	if len(e) > 9 {
		if !isList(e[9]) {
			return bad(typeErr(e[9], "an array of subcommands"))
		}
		if depth > 2 && len(e[9].Elems) > 0 {
			return bad(fmt.Errorf("subcommands nested too deep"))
		}
		for _, s := range e[9].Elems {
			sub, err := commandInfo(s, depth+1)
			if err != nil {
				return CommandInfo{}, err
			}
			ci.Subcommands = append(ci.Subcommands, sub)
		}
	}
	return ci, nil
}

// decodeCommandDocs decodes COMMAND DOCS: a map of name to doc (a flat array in RESP2).
func decodeCommandDocs(r Result) (map[string]CommandDoc, error) {
	v, err := r.typed()
	if err != nil {
		return nil, err
	}
	return commandDocs(v, 0)
}

func commandDocs(v resp.Value, depth int) (map[string]CommandDoc, error) {
	if depth > 2 {
		return nil, fmt.Errorf("redline: COMMAND DOCS: subcommands nested too deep")
	}
	out := map[string]CommandDoc{}
	err := forPairs(v, "a map of command docs", func(cmd string, dv resp.Value) error {
		var d CommandDoc
		err := forPairs(dv, "a command's doc", func(name string, val resp.Value) (err error) {
			switch name {
			case "summary":
				d.Summary, err = valueText(val)
			case "since":
				d.Since, err = valueText(val)
			case "group":
				d.Group, err = valueText(val)
			case "complexity":
				d.Complexity, err = valueText(val)
			case "doc_flags":
				d.DocFlags, err = textList(val)
			case "deprecated_since":
				d.DeprecatedSince, err = valueText(val)
			case "replaced_by":
				d.ReplacedBy, err = valueText(val)
			case "subcommands":
				d.Subcommands, err = commandDocs(val, depth+1)
			}
			return err
		})
		if err != nil {
			return fmt.Errorf("redline: COMMAND DOCS %q: %w", cmd, err)
		}
		out[cmd] = d
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// decodeModuleList decodes MODULE LIST: an array of maps (flat arrays in RESP2).
func decodeModuleList(r Result) ([]ModuleInfo, error) {
	v, err := r.typed()
	if err != nil {
		return nil, err
	}
	if !isList(v) {
		return nil, typeErr(v, "an array of modules")
	}
	out := make([]ModuleInfo, len(v.Elems))
	for i, e := range v.Elems {
		m := &out[i]
		err := forPairs(e, "a module", func(name string, val resp.Value) (err error) {
			switch name {
			case "name":
				m.Name, err = valueText(val)
			case "ver":
				m.Version, err = valueInt(val)
			case "path":
				m.Path, err = valueText(val)
			case "args":
				m.Args, err = textList(val)
			}
			return err
		})
		if err != nil {
			return nil, fmt.Errorf("redline: MODULE LIST entry %d: %w", i, err)
		}
	}
	return out, nil
}

// KeyFlags is a key of a command and what the command does with it (COMMAND
// GETKEYSANDFLAGS): flags such as "RW", "access", "update", "OW", "insert".
type KeyFlags struct {
	Key   string
	Flags []string
}

// decodeKeyFlags decodes COMMAND GETKEYSANDFLAGS: [[key, [flag…]]…].
func decodeKeyFlags(r Result) ([]KeyFlags, error) {
	v, err := r.typed()
	if err != nil {
		return nil, err
	}
	if !isList(v) {
		return nil, typeErr(v, "an array of keys and flags")
	}
	out := make([]KeyFlags, len(v.Elems))
	for i, e := range v.Elems {
		if !isList(e) || len(e.Elems) != 2 {
			return nil, fmt.Errorf("redline: COMMAND GETKEYSANDFLAGS entry %d is not [key, flags]", i)
		}
		if out[i].Key, err = valueText(e.Elems[0]); err == nil {
			out[i].Flags, err = textList(e.Elems[1])
		}
		if err != nil {
			return nil, fmt.Errorf("redline: COMMAND GETKEYSANDFLAGS entry %d: %w", i, err)
		}
	}
	return out, nil
}
