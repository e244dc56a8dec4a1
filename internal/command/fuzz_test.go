package command

import (
	"bytes"
	"sync"
	"testing"

	"github.com/redline-go/redline/resp"
)

// fuzzArgs builds a command from fuzz bytes: the first byte picks a command or subcommand
// of the table (or, past the table, none: the name comes from the data), the rest is split
// at 0xff bytes into arguments, whose first byte picks their type (string, []byte or int).
func fuzzArgs(data []byte) []any {
	names := fuzzNames()
	var args []any
	if len(data) > 0 && int(data[0]) < len(names) {
		name := names[data[0]]
		if c, s, ok := bytes.Cut([]byte(name), []byte("|")); ok {
			args = append(args, string(c), string(s))
		} else {
			args = append(args, name)
		}
		data = data[1:]
	}
	for len(data) > 0 {
		var f []byte
		f, data, _ = bytes.Cut(data, []byte{0xff})
		switch {
		case len(f) > 0 && f[0] == 0xfe:
			args = append(args, f[1:])
		case len(f) > 0 && f[0] == 0xfd:
			n := 0
			if len(f) > 1 {
				n = int(int8(f[1]))
			}
			args = append(args, n)
		default:
			args = append(args, string(f))
		}
	}
	return args
}

// fuzzNames lists the names of all commands and subcommands of the table.
var fuzzNames = sync.OnceValue(func() []string {
	var names []string
	for _, in := range All() {
		names = append(names, in.Name)
		for _, s := range in.Subcommands {
			names = append(names, s.Name)
		}
	}
	return names
})

func FuzzKeyIndexes(f *testing.F) {
	seeds := [][]byte{
		nil,
		{0},
		append([]byte{0xf0}, "EVAL\xffs\xff2\xffa\xffb"...),
		append([]byte{0xf0}, "xread\xffSTREAMS\xffa\xffb\xff0"...),
		append([]byte{0xf0}, "MIGRATE\xffh\xffp\xff\xff0\xff5000\xffAUTH2\xffKEYS\xffKEYS"...),
		append([]byte{0xf0}, "sort\xffk\xffLIMIT\xffSTORE"...),
		append([]byte{0xf0}, "ZUNIONSTORE\xffd\xff\xfd\x03\xffa"...),
		append([]byte{0xf0}, "mset\xffa\xff1\xffb"...),
	}
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		args := fuzzArgs(data)
		in := Lookup(args)
		if in == nil {
			in = &Info{Arity: -1, FirstKey: 1, LastKey: -1, Step: 1}
		}
		for _, fn := range []func([]any, []int) ([]int, bool){in.KeyIndexes, in.SlotIndexes} {
			idx, _ := fn(args, nil)
			for _, i := range idx {
				if i < 1 || i >= len(args) {
					t.Fatalf("%q: index %d out of range", args, i)
				}
			}
		}
	})
}

// FuzzParse feeds Parse whatever the codec decodes from fuzz bytes.
func FuzzParse(f *testing.F) {
	f.Add([]byte("*1\r\n*6\r\n$3\r\nget\r\n:2\r\n*1\r\n+readonly\r\n:1\r\n:1\r\n:1\r\n"))
	f.Add(resp.AppendValue(nil, resp.Value{Type: resp.TypeArray, Elems: []resp.Value{getEntry()}}))
	f.Add(resp.AppendValueRESP2(nil, resp.Value{Type: resp.TypeArray, Elems: []resp.Value{getEntry()}}))
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := resp.NewReader(bytes.NewReader(data), resp.Limits{MaxDepth: 16}).ReadValue()
		if err != nil {
			return
		}
		infos, err := Parse(v)
		if err != nil {
			return
		}
		tab := NewTable(infos)
		for _, in := range infos {
			args := []any{in.Name, "a", "1", "b", "STREAMS", "c"}
			idx, _ := in.KeyIndexes(args, nil)
			for _, i := range idx {
				if i < 1 || i >= len(args) {
					t.Fatalf("%s: index %d out of range", in.Name, i)
				}
			}
			_ = tab.Lookup(args)
		}
	})
}
