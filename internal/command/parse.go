package command

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/redline-go/redline/resp"
)

// ErrMalformed is matched (with errors.Is) by every error of [Parse].
var ErrMalformed = errors.New("command: malformed COMMAND reply")

// maxSubcommandDepth bounds the nesting of subcommands Parse accepts; Redis has one level.
const maxSubcommandDepth = 4

// Parse parses a reply of COMMAND or COMMAND INFO, in its RESP2 or RESP3 form, into Infos
// sorted by name. It reads the Redis 7 entry of ten fields (name, arity, flags, first key,
// last key, step, ACL categories, tips, key specs, subcommands) and also the shorter
// entries of older versions, whose missing fields stay zero; fields added after the tenth
// are ignored, and so are unknown flags and tips. A null entry, which COMMAND INFO returns
// for an unknown name, is skipped. Names are lowered.
//
// Parse never panics: a reply of another shape is an error matching [ErrMalformed] that
// says where the problem is. A server error reply is returned as an error too.
func Parse(v resp.Value) ([]*Info, error) {
	if v.IsError() {
		return nil, fmt.Errorf("%w: server error: %s", ErrMalformed, v.Str)
	}
	if !isList(v) {
		return nil, malformed("reply", "is a %s, not an array", v.Type)
	}
	infos := make([]*Info, 0, len(v.Elems))
	for i := range v.Elems {
		e := &v.Elems[i]
		if e.IsNull() {
			continue
		}
		in, err := parseEntry(e, "", 0)
		if err != nil {
			return nil, fmt.Errorf("%w (entry %d)", err, i)
		}
		infos = append(infos, in)
	}
	sortInfos(infos)
	return infos, nil
}

func sortInfos(infos []*Info) {
	sort.SliceStable(infos, func(a, b int) bool { return infos[a].Name < infos[b].Name })
}

// parseEntry parses one command entry; parent is the container's name for a subcommand.
func parseEntry(e *resp.Value, parent string, depth int) (*Info, error) {
	if !isList(*e) {
		return nil, malformed("entry", "is a %s, not an array", e.Type)
	}
	f := e.Elems
	if len(f) < 6 {
		return nil, malformed("entry", "has %d fields, want at least 6", len(f))
	}
	name, ok := text(f[0])
	if !ok || name == "" {
		return nil, malformed("entry", "name is a %s, not a non-empty string", f[0].Type)
	}
	name = lowerASCII(name)
	where := "command " + quote(name)
	if parent != "" && !strings.HasPrefix(name, parent+"|") {
		return nil, malformed(where, "is not named %s", quote(parent+"|<subcommand>"))
	}
	in := &Info{Name: name}
	var err error
	if in.Arity, err = integer(f[1], where, "arity"); err != nil {
		return nil, err
	}
	if in.Flags, err = parseNames(f[2], where, "flags", "a flag", ParseFlag); err != nil {
		return nil, err
	}
	if in.FirstKey, err = integer(f[3], where, "first key"); err != nil {
		return nil, err
	}
	if in.LastKey, err = integer(f[4], where, "last key"); err != nil {
		return nil, err
	}
	if in.Step, err = integer(f[5], where, "step"); err != nil {
		return nil, err
	}
	if len(f) > 6 && !f[6].IsNull() {
		if in.Categories, err = parseNames(f[6], where, "ACL categories", "an ACL category", ParseCategory); err != nil {
			return nil, err
		}
	}
	if len(f) > 7 {
		if err := parseTips(in, f[7], where); err != nil {
			return nil, err
		}
	}
	if len(f) > 8 {
		if in.KeySpecs, err = parseKeySpecs(f[8], where); err != nil {
			return nil, err
		}
	}
	if len(f) > 9 && !f[9].IsNull() {
		if !isList(f[9]) {
			return nil, malformed(where, "subcommands are a %s, not an array", f[9].Type)
		}
		if len(f[9].Elems) > 0 {
			if depth >= maxSubcommandDepth {
				return nil, malformed(where, "subcommands nest deeper than %d", maxSubcommandDepth)
			}
			in.Subcommands = make([]*Info, 0, len(f[9].Elems))
			for i := range f[9].Elems {
				sub, err := parseEntry(&f[9].Elems[i], name, depth+1)
				if err != nil {
					return nil, err
				}
				in.Subcommands = append(in.Subcommands, sub)
			}
			sortInfos(in.Subcommands)
		}
	}
	attachKeyFinders(in)
	classifyConn(in)
	return in, nil
}

// parseNames reads a set of names (flags, ACL categories) into bits with parse; what
// and one name the kind for messages ("flags", "a flag").
func parseNames[T ~uint32](v resp.Value, where, what, one string, parse func(string) T) (T, error) {
	if !isList(v) {
		return 0, malformed(where, "%s are a %s, not an array or set", what, v.Type)
	}
	var bits T
	for _, e := range v.Elems {
		s, ok := text(e)
		if !ok {
			return 0, malformed(where, "%s is a %s, not a string", one, e.Type)
		}
		bits |= parse(s)
	}
	return bits, nil
}

func parseTips(in *Info, v resp.Value, where string) error {
	if !isList(v) {
		return malformed(where, "tips are a %s, not an array", v.Type)
	}
	for _, e := range v.Elems {
		s, ok := text(e)
		if !ok {
			return malformed(where, "a tip is a %s, not a string", e.Type)
		}
		key, val, _ := strings.Cut(strings.ToLower(s), ":")
		switch key {
		case "request_policy":
			in.Request = parseRequestPolicy(val)
		case "response_policy":
			in.Response = parseResponsePolicy(val)
		case "nondeterministic_output", "nondeterministic_output_order":
			in.Nondeterministic = true
		}
	}
	return nil
}

func parseKeySpecs(v resp.Value, where string) ([]KeySpec, error) {
	if v.IsNull() {
		return nil, nil
	}
	if !isList(v) {
		return nil, malformed(where, "key specs are a %s, not an array", v.Type)
	}
	if len(v.Elems) == 0 {
		return nil, nil
	}
	specs := make([]KeySpec, len(v.Elems))
	for i := range v.Elems {
		w := fmt.Sprintf("%s key spec %d", where, i)
		if err := parseKeySpec(&specs[i], v.Elems[i], w); err != nil {
			return nil, err
		}
	}
	return specs, nil
}

func parseKeySpec(ks *KeySpec, v resp.Value, where string) error {
	return eachField(v, where, func(key string, val resp.Value) error {
		switch key {
		case "flags":
			if !isList(val) {
				return malformed(where, "flags are a %s, not an array or set", val.Type)
			}
			for _, e := range val.Elems {
				s, ok := text(e)
				if !ok {
					return malformed(where, "a flag is a %s, not a string", e.Type)
				}
				ks.Flags |= parseKeyFlag(s)
			}
		case "begin_search":
			return parseBeginSearch(&ks.Begin, val, where+" begin_search")
		case "find_keys":
			return parseFindKeys(&ks.Find, val, where+" find_keys")
		}
		return nil
	})
}

// parseBeginSearch parses {type: index|keyword|unknown, spec: {...}}.
func parseBeginSearch(bs *BeginSearch, v resp.Value, where string) error {
	typ, spec, err := typeAndSpec(v, where)
	if err != nil {
		return err
	}
	switch typ {
	case "index":
		bs.Kind = BeginIndex
	case "keyword":
		bs.Kind = BeginKeyword
	default:
		bs.Kind = BeginUnknown
		return nil
	}
	err = eachField(spec, where+" spec", func(key string, val resp.Value) error {
		var err error
		switch key {
		case "index":
			bs.Index, err = integer(val, where, key)
		case "keyword":
			var ok bool
			if bs.Keyword, ok = text(val); !ok {
				return malformed(where, "keyword is a %s, not a string", val.Type)
			}
		case "startfrom":
			bs.StartFrom, err = integer(val, where, key)
		}
		return err
	})
	return err
}

// parseFindKeys parses {type: range|keynum|unknown, spec: {...}}.
func parseFindKeys(fk *FindKeys, v resp.Value, where string) error {
	typ, spec, err := typeAndSpec(v, where)
	if err != nil {
		return err
	}
	switch typ {
	case "range":
		fk.Kind = FindRange
	case "keynum":
		fk.Kind = FindKeyNum
	default:
		fk.Kind = FindUnknown
		return nil
	}
	err = eachField(spec, where+" spec", func(key string, val resp.Value) error {
		var err error
		switch key {
		case "lastkey":
			fk.LastKey, err = integer(val, where, key)
		case "keystep":
			fk.KeyStep, err = integer(val, where, key)
		case "limit":
			fk.Limit, err = integer(val, where, key)
		case "keynumidx":
			fk.KeyNumIdx, err = integer(val, where, key)
		case "firstkey":
			fk.FirstKey, err = integer(val, where, key)
		}
		return err
	})
	return err
}

func typeAndSpec(v resp.Value, where string) (typ string, spec resp.Value, err error) {
	spec = resp.Value{Type: resp.TypeMap}
	err = eachField(v, where, func(key string, val resp.Value) error {
		switch key {
		case "type":
			s, ok := text(val)
			if !ok {
				return malformed(where, "type is a %s, not a string", val.Type)
			}
			typ = strings.ToLower(s)
		case "spec":
			spec = val
		}
		return nil
	})
	return typ, spec, err
}

// eachField calls fn with each key (lowered) and value of a RESP3 map or of the flat
// key/value array that RESP2 sends instead. Keys that are not strings are an error.
func eachField(v resp.Value, where string, fn func(key string, val resp.Value) error) error {
	if v.Type != resp.TypeMap && v.Type != resp.TypeArray {
		return malformed(where, "is a %s, not a map", v.Type)
	}
	if len(v.Elems)%2 != 0 {
		return malformed(where, "has an odd number (%d) of map elements", len(v.Elems))
	}
	for i := 0; i < len(v.Elems); i += 2 {
		k, ok := text(v.Elems[i])
		if !ok {
			return malformed(where, "a map key is a %s, not a string", v.Elems[i].Type)
		}
		if err := fn(strings.ToLower(k), v.Elems[i+1]); err != nil {
			return err
		}
	}
	return nil
}

// isList reports whether v is an array or a set.
func isList(v resp.Value) bool { return v.Type == resp.TypeArray || v.Type == resp.TypeSet }

// text returns the string of a simple string, bulk string or verbatim string.
func text(v resp.Value) (string, bool) {
	switch v.Type {
	case resp.TypeSimpleString, resp.TypeBulkString, resp.TypeVerbatim:
		return string(v.Str), true
	}
	return "", false
}

// integer returns the value of an integer reply that fits comfortably in an int.
func integer(v resp.Value, where, field string) (int, error) {
	const limit = 1 << 30
	if v.Type != resp.TypeInteger {
		return 0, malformed(where, "%s is a %s, not an integer", field, v.Type)
	}
	if v.Int < -limit || v.Int > limit {
		return 0, malformed(where, "%s %d is out of range", field, v.Int)
	}
	return int(v.Int), nil
}

func malformed(where, format string, args ...any) error {
	return fmt.Errorf("%w: %s %s", ErrMalformed, where, fmt.Sprintf(format, args...))
}

func quote(s string) string {
	if len(s) > 64 {
		s = s[:64] + "..."
	}
	return fmt.Sprintf("%q", s)
}
