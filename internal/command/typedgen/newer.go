package typedgen

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"

	"github.com/redline-go/redline/internal/command"
	"github.com/redline-go/redline/resp"
)

// Commands newer than the command table.
//
// The command table of package command is generated from a Redis 7.0 server's COMMAND
// reply, and stays so: it is what the client routes by at run time. Commands added since
// (HEXPIRE in Redis 7.4, HGETEX in 8.0…) are routed at run time by what the server
// itself says of them (COMMAND INFO, asked once: internal/cluster/modules.go). To check
// the spec.txt entries of such commands as strictly as the others (arity, keys), the
// generator reads newer_commands.json: for each such command, the fields of its
// definition in Redis's own source (src/commands/<name>.json: arity, flags, ACL
// categories, tips, key specs), where it came from, and the version that has it. Run
//
//	go run ./internal/command/typedgen/newercmds ORIGIN=FILE.json…
//
// to write it again from those files (the tool's doc says how to get them). Nothing
// else reads it: it is not in the client.

// NewerFile is the content of newer_commands.json.
type NewerFile struct {
	// About says what the file is and how it was made.
	About string `json:"about"`
	// Commands are sorted by name.
	Commands []NewerCommand `json:"commands"`
}

// NewerCommand is one command of newer_commands.json, in the vocabulary of Redis's
// src/commands/*.json.
type NewerCommand struct {
	// Name is the command's name in upper case, "CONTAINER SUB" for a subcommand.
	Name string `json:"name"`
	// Since is the first Redis version that has the command ("7.4.0").
	Since string `json:"since"`
	// Origin is where its definition was read: "owner/repo@commit:path".
	Origin   string        `json:"origin"`
	Arity    int           `json:"arity"`
	Flags    []string      `json:"command_flags,omitempty"`
	ACL      []string      `json:"acl_categories,omitempty"`
	Tips     []string      `json:"command_tips,omitempty"`
	KeySpecs []JSONKeySpec `json:"key_specs,omitempty"`
}

// JSONKeySpec is a key spec as src/commands/*.json writes it.
type JSONKeySpec struct {
	Flags       []string `json:"flags,omitempty"`
	BeginSearch struct {
		Index *struct {
			Pos int `json:"pos"`
		} `json:"index,omitempty"`
		Keyword *struct {
			Keyword   string `json:"keyword"`
			StartFrom int    `json:"startfrom"`
		} `json:"keyword,omitempty"`
	} `json:"begin_search"`
	FindKeys struct {
		Range *struct {
			LastKey int `json:"lastkey"`
			Step    int `json:"step"`
			Limit   int `json:"limit"`
		} `json:"range,omitempty"`
		KeyNum *struct {
			KeyNumIdx int `json:"keynumidx"`
			FirstKey  int `json:"firstkey"`
			Step      int `json:"step"`
		} `json:"keynum,omitempty"`
	} `json:"find_keys"`
}

//go:embed newer_commands.json
var newerJSON []byte

var newer = sync.OnceValues(func() (*newerTable, error) { return parseNewer(newerJSON) })

// newerTable is newer_commands.json as a command table, with each command's version.
type newerTable struct {
	t       *command.Table
	since   map[string]string     // lower-case table name ("cluster|myshardid") -> "7.2.0"
	entries map[string]resp.Value // the same name -> its entry of a COMMAND INFO reply
}

// parseNewer reads a newer_commands.json into a table: each command becomes the entry
// a server's COMMAND INFO reply would have for it (implied ACL categories added as the
// server adds them), parsed by command.Parse as the client parses a server's.
func parseNewer(src []byte) (*newerTable, error) {
	var f NewerFile
	if err := json.Unmarshal(src, &f); err != nil {
		return nil, fmt.Errorf("newer_commands.json: %w", err)
	}
	nt := &newerTable{since: map[string]string{}, entries: map[string]resp.Value{}}
	var top []resp.Value
	containers := map[string]int{} // container name -> index in top
	for _, c := range f.Commands {
		entry, err := c.commandEntry()
		if err != nil {
			return nil, fmt.Errorf("newer_commands.json: %s: %w", c.Name, err)
		}
		if c.Since == "" || c.Origin == "" {
			return nil, fmt.Errorf("newer_commands.json: %s: no since or origin", c.Name)
		}
		lower := strings.ToLower(strings.ReplaceAll(c.Name, " ", "|"))
		nt.since[lower], nt.entries[lower] = c.Since, entry
		container, _, isSub := strings.Cut(c.Name, " ")
		if !isSub {
			top = append(top, entry)
			continue
		}
		// A subcommand goes under its container, which has no definition here (the
		// check looks the container up in the command table first).
		i, ok := containers[container]
		if !ok {
			i = len(top)
			containers[container] = i
			top = append(top, arr(bulk(strings.ToLower(container)), integer(-2), arr(), integer(0), integer(0), integer(0), arr(), arr(), arr(), arr()))
		}
		top[i].Elems[9].Elems = append(top[i].Elems[9].Elems, entry)
	}
	infos, err := command.Parse(arr(top...))
	if err != nil {
		return nil, fmt.Errorf("newer_commands.json: %w", err)
	}
	nt.t = command.NewTable(infos)
	return nt, nil
}

// commandEntry returns c as an entry of a COMMAND reply.
func (c NewerCommand) commandEntry() (resp.Value, error) {
	name := strings.ToLower(strings.ReplaceAll(c.Name, " ", "|"))
	if name == "" || strings.Count(name, "|") > 1 {
		return resp.Value{}, fmt.Errorf("bad name")
	}
	var flags, cats, tips, specs []resp.Value
	hasFlag := map[string]bool{}
	for _, f := range c.Flags {
		f = strings.ToLower(f)
		if command.ParseFlag(f) == 0 {
			return resp.Value{}, fmt.Errorf("unknown flag %s", f)
		}
		hasFlag[f] = true
		flags = append(flags, simple(f))
	}
	// The categories a server adds from the flags (setImplicitACLCategories).
	acl := map[string]bool{}
	for _, a := range c.ACL {
		acl[strings.ToLower(a)] = true
	}
	implied := [][2]string{{"write", "write"}, {"admin", "admin"}, {"admin", "dangerous"},
		{"pubsub", "pubsub"}, {"fast", "fast"}, {"blocking", "blocking"}}
	for _, fc := range implied {
		if hasFlag[fc[0]] {
			acl[fc[1]] = true
		}
	}
	if hasFlag["readonly"] && !acl["scripting"] {
		acl["read"] = true
	}
	if !acl["fast"] {
		acl["slow"] = true
	}
	for _, a := range slices.Sorted(maps.Keys(acl)) {
		if command.ParseCategory(a) == 0 {
			return resp.Value{}, fmt.Errorf("unknown ACL category %s", a)
		}
		cats = append(cats, simple("@"+a))
	}
	for _, t := range c.Tips {
		tips = append(tips, simple(strings.ToLower(t)))
	}
	first, last, step := 0, 0, 0
	for i, ks := range c.KeySpecs {
		v, err := ks.value()
		if err != nil {
			return resp.Value{}, fmt.Errorf("key spec %d: %w", i, err)
		}
		specs = append(specs, v)
	}
	// The legacy key range, from a first key spec of a fixed position and count (the
	// client uses the key specs; the range is what a server would show).
	if len(c.KeySpecs) > 0 {
		ks := c.KeySpecs[0]
		if ks.BeginSearch.Index != nil && ks.FindKeys.Range != nil && ks.FindKeys.Range.LastKey >= 0 {
			first = ks.BeginSearch.Index.Pos
			last, step = first+ks.FindKeys.Range.LastKey, ks.FindKeys.Range.Step
		}
	}
	return arr(bulk(name), integer(int64(c.Arity)), set(flags...), integer(int64(first)), integer(int64(last)),
		integer(int64(step)), set(cats...), arr(tips...), arr(specs...), arr()), nil
}

// value returns the key spec as a COMMAND reply writes it.
func (ks JSONKeySpec) value() (resp.Value, error) {
	var flags []resp.Value
	for _, f := range ks.Flags {
		flags = append(flags, simple(f))
	}
	var begin, find resp.Value
	switch b := ks.BeginSearch; {
	case b.Index != nil && b.Keyword == nil:
		begin = kv("type", bulk("index"), "spec", kv("index", integer(int64(b.Index.Pos))))
	case b.Keyword != nil && b.Index == nil:
		begin = kv("type", bulk("keyword"), "spec", kv("keyword", bulk(b.Keyword.Keyword), "startfrom", integer(int64(b.Keyword.StartFrom))))
	default:
		return resp.Value{}, fmt.Errorf("begin_search: want one of index and keyword")
	}
	switch f := ks.FindKeys; {
	case f.Range != nil && f.KeyNum == nil:
		find = kv("type", bulk("range"), "spec", kv("lastkey", integer(int64(f.Range.LastKey)), "keystep", integer(int64(f.Range.Step)), "limit", integer(int64(f.Range.Limit))))
	case f.KeyNum != nil && f.Range == nil:
		find = kv("type", bulk("keynum"), "spec", kv("keynumidx", integer(int64(f.KeyNum.KeyNumIdx)), "firstkey", integer(int64(f.KeyNum.FirstKey)), "keystep", integer(int64(f.KeyNum.Step))))
	default:
		return resp.Value{}, fmt.Errorf("find_keys: want one of range and keynum")
	}
	return kv("flags", set(flags...), "begin_search", begin, "find_keys", find), nil
}

func arr(v ...resp.Value) resp.Value { return resp.Value{Type: resp.TypeArray, Elems: v} }
func set(v ...resp.Value) resp.Value { return resp.Value{Type: resp.TypeSet, Elems: v} }
func bulk(s string) resp.Value       { return resp.Value{Type: resp.TypeBulkString, Str: []byte(s)} }
func simple(s string) resp.Value     { return resp.Value{Type: resp.TypeSimpleString, Str: []byte(s)} }
func integer(n int64) resp.Value     { return resp.Value{Type: resp.TypeInteger, Int: n} }

// kv returns a RESP3 map of the keys and values, alternating (a key is a string).
func kv(pairs ...any) resp.Value {
	m := resp.Value{Type: resp.TypeMap}
	for i := 0; i+1 < len(pairs); i += 2 {
		m.Elems = append(m.Elems, bulk(pairs[i].(string)), pairs[i+1].(resp.Value))
	}
	return m
}

// CheckNewer reports whether src, a newer_commands.json, reads as a table.
func CheckNewer(src []byte) error {
	_, err := parseNewer(src)
	return err
}

// lookupNewer returns the info of the command name (and subcommand sub, when not "")
// from newer_commands.json, for an entry of spec.txt whose command the command table
// lacks. The entry's doc must name the version that has the command, as "Redis 7.4+".
func lookupNewer(e *entry, name, sub string) (*command.Info, error) {
	full := strings.ToUpper(strings.TrimSpace(name + " " + sub))
	nt, err := newer()
	if err != nil {
		return nil, err
	}
	in := nt.t.LookupName(name)
	if in != nil && sub != "" {
		in = in.Subcommand(sub)
	}
	if in == nil || len(in.Subcommands) > 0 {
		what := "command"
		if sub != "" {
			what = "subcommand"
		}
		return nil, fmt.Errorf("unknown %s %s: it is neither in the command table (Redis %s) nor in newer_commands.json", what, full, command.RedisVersion)
	}
	since := nt.since[in.Name]
	major, minor, _ := strings.Cut(since, ".")
	minor, _, _ = strings.Cut(minor, ".")
	mark := "Redis " + major + "." + minor + "+"
	if !strings.Contains(strings.Join(e.doc, " "), mark) {
		return nil, fmt.Errorf("%s is newer than the command table (Redis %s): the doc must say %q (newer_commands.json: since %s)", full, command.RedisVersion, mark, since)
	}
	return in, nil
}

// NewerCommandInfo returns the reply a server that has the command would give to
// COMMAND INFO name (name lower case, "container|sub" for a subcommand), as
// newer_commands.json defines it: for tests of how the client routes such a command.
func NewerCommandInfo(name string) (resp.Value, bool) {
	nt, err := newer()
	if err != nil {
		return resp.Value{}, false
	}
	e, ok := nt.entries[name]
	return arr(e), ok
}

// NewerCommands returns the names (as NewerCommandInfo takes them) and versions of the
// commands of newer_commands.json.
func NewerCommands() (map[string]string, error) {
	nt, err := newer()
	if err != nil {
		return nil, err
	}
	return maps.Clone(nt.since), nil
}
