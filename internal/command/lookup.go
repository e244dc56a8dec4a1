package command

import "sort"

// maxName is the longest command name, or container|subcommand name, that a lookup
// considers; the longest in Redis 7.0 has 29 bytes ("cluster|count-failure-reports").
const maxName = 64

// Table finds the [Info] of a command. The zero Table knows no command; [Lookup] uses the
// table generated from Redis (see [Generated]). A Table is immutable and safe for
// concurrent use.
type Table struct {
	// byName maps lower-case names, and "container|sub" names of subcommands, to Infos.
	byName map[string]*Info
	all    []*Info
}

// NewTable returns a table of the commands infos, such as a reply of COMMAND INFO parsed
// by [Parse] for module commands. Their subcommands are found through them. Names are
// matched case-insensitively; when two infos have the same name the last one wins.
func NewTable(infos []*Info) *Table {
	t := &Table{byName: make(map[string]*Info, len(infos)*2)}
	for _, in := range infos {
		if in == nil {
			continue
		}
		t.byName[lowerASCII(in.Name)] = in
		for _, s := range in.Subcommands {
			if s != nil {
				t.byName[lowerASCII(s.Name)] = s
			}
		}
	}
	for name, in := range t.byName {
		if !isSub(name) {
			t.all = append(t.all, in)
		}
	}
	sort.Slice(t.all, func(a, b int) bool { return t.all[a].Name < t.all[b].Name })
	return t
}

func isSub(name string) bool {
	for i := 0; i < len(name); i++ {
		if name[i] == '|' {
			return true
		}
	}
	return false
}

// All returns the top-level commands of t sorted by name, in a new slice.
func (t *Table) All() []*Info {
	if t == nil {
		return nil
	}
	return append([]*Info(nil), t.all...)
}

// Len returns the number of top-level commands in t.
func (t *Table) Len() int {
	if t == nil {
		return 0
	}
	return len(t.all)
}

// Lookup finds the command of args: args[0] is its name, string or []byte (any other type
// matches no command), matched case-insensitively. For a container command such as CONFIG,
// CLUSTER, OBJECT or XINFO, args[1] selects the subcommand's Info; a missing or unknown
// subcommand returns the container itself. Lookup returns nil for an unknown command. It
// does not allocate.
func (t *Table) Lookup(args []any) *Info {
	if t == nil || len(args) == 0 {
		return nil
	}
	var buf [maxName]byte
	n, ok := appendLower(buf[:0], args[0])
	if !ok {
		return nil
	}
	in := t.byName[string(buf[:n])]
	if in == nil || in.Subcommands == nil || len(args) < 2 {
		return in
	}
	if n == len(buf) {
		return in
	}
	buf[n] = '|'
	m, ok := appendLower(buf[:n+1], args[1])
	if !ok {
		return in
	}
	if sub := t.byName[string(buf[:m])]; sub != nil {
		return sub
	}
	return in
}

// LookupName finds a command or subcommand by its name, such as "get" or "config|get",
// case-insensitively; nil when unknown.
func (t *Table) LookupName(name string) *Info {
	if t == nil {
		return nil
	}
	var buf [maxName]byte
	n, ok := lowerInto(buf[:0], name, true)
	if !ok {
		return nil
	}
	return t.byName[string(buf[:n])]
}

// appendLower appends the ASCII lower-case form of the string or []byte a to buf, which
// must not grow, and returns the new length; ok is false when a is of another type, too
// long for buf's capacity, or contains '|' (which only the names of subcommands in the
// table contain: "config|get" is not a command Redis runs).
func appendLower(buf []byte, a any) (n int, ok bool) {
	switch a := a.(type) {
	case string:
		return lowerInto(buf, a, false)
	case []byte:
		return lowerInto(buf, a, false)
	}
	return 0, false
}

// lowerInto appends the ASCII lower-case form of s to buf within its capacity; '|' is
// refused unless bar is set.
func lowerInto[S string | []byte](buf []byte, s S, bar bool) (int, bool) {
	n := len(buf)
	if len(s) > cap(buf)-n {
		return 0, false
	}
	buf = buf[:n+len(s)]
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		} else if c == '|' && !bar {
			return 0, false
		}
		buf[n+i] = c
	}
	return len(buf), true
}

// lowerASCII returns s with ASCII upper-case letters lowered.
func lowerASCII(s string) string {
	for i := 0; i < len(s); i++ {
		if 'A' <= s[i] && s[i] <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if 'A' <= b[j] && b[j] <= 'Z' {
					b[j] += 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}

// generated is the table of the commands of the Redis version RedisVersion, built from
// table_gen.go.
var generated = newGenerated()

func newGenerated() *Table {
	for _, in := range table {
		attachKeyFinders(in)
		classifyConn(in)
	}
	return NewTable(table)
}

// Generated returns the table generated from the COMMAND reply of Redis [RedisVersion].
func Generated() *Table { return generated }

// Lookup finds the command of args in the generated table; see [Table.Lookup].
func Lookup(args []any) *Info { return generated.Lookup(args) }

// LookupName finds a command or subcommand by name in the generated table; see
// [Table.LookupName].
func LookupName(name string) *Info { return generated.LookupName(name) }

// All returns the commands of the generated table sorted by name, in a new slice.
func All() []*Info { return generated.All() }
