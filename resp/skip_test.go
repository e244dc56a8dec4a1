package resp

import (
	"bytes"
	"io"
	"strings"
	"testing"
)

// hookReader calls hook before every Read, as a connection's reader does when it
// checks whether the reply being read is still wanted.
type hookReader struct {
	src  io.Reader
	read int64
	hook func(read int64)
}

func (h *hookReader) Read(p []byte) (int, error) {
	h.hook(h.read)
	n, err := h.src.Read(p)
	h.read += int64(n)
	return n, err
}

// A value discarded mid-way is consumed to its end, costs no more memory, and the next
// value decodes as usual.
func TestDiscardMidValue(t *testing.T) {
	const MiB = 1 << 20
	big := AppendBulk(nil, make([]byte, 64*MiB))
	var arr []byte
	arr = AppendArrayHeader(arr, 200_000)
	for i := range 200_000 {
		if i%2 == 0 {
			arr = AppendArrayHeader(arr, 2) // nested aggregates are skipped too
			arr = AppendBulkString(arr, "nested")
		}
		arr = AppendBulkString(arr, "element")
	}
	for _, tc := range []struct {
		name string
		in   []byte
		max  uint64 // bytes allocated by the discarded value, at most
	}{
		{"bulk", big, 4 * MiB},
		{"array", arr, 4 * MiB},
		{"map with attribute", []byte("|1\r\n+a\r\n+b\r\n%2\r\n+k\r\n$3\r\nabc\r\n+k2\r\n*1\r\n:1\r\n"), 64 << 10},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := append(append([]byte(nil), tc.in...), "$4\r\nnext\r\n"...)
			var r *Reader
			h := &hookReader{src: bytes.NewReader(in), hook: func(read int64) {
				if read > 0 {
					r.Discard()
				}
			}}
			r = NewReaderSize(h, 16, Limits{})
			var v Value
			var err error
			n := allocatedBy(func() { v, err = r.ReadValue() })
			if err != nil || v.Type != 0 || v.Str != nil || v.Elems != nil {
				t.Fatalf("discarded value: %v %v, want the zero Value", v, err)
			}
			if n > tc.max {
				t.Errorf("discarding allocated %d bytes, want at most %d", n, tc.max)
			}
			h.hook = func(int64) {}
			if v, err := r.ReadValue(); err != nil || string(v.Str) != "next" {
				t.Fatalf("next value: %v %v", v, err)
			}
			if _, err := r.ReadValue(); err != io.EOF {
				t.Fatalf("after: %v, want EOF", err)
			}
		})
	}
}

// A discarded value still breaks on a broken stream or a limit.
func TestDiscardKeepsChecking(t *testing.T) {
	for _, in := range []string{"*3\r\n$1\r\na\r\n$1\r\nbX\r\n:1\r\n", "*2\r\n:1\r\n$999999999999\r\n", "*2\r\n:1\r\n*2\r\n*1\r\n:1\r\n"} {
		var r *Reader
		h := &hookReader{src: strings.NewReader(in), hook: func(int64) { r.Discard() }}
		r = NewReaderSize(h, 16, Limits{MaxDepth: 2})
		if _, err := r.ReadValue(); err == nil || err == io.EOF {
			t.Errorf("%q: err %v, want an error", in, err)
		}
	}
}

// Discard between values, or while a push frame is read, drops nothing.
func TestDiscardSparesPushAndNextValue(t *testing.T) {
	in := ">2\r\n$7\r\nmessage\r\n$2\r\nhi\r\n+OK\r\n"
	var r *Reader
	h := &hookReader{src: strings.NewReader(in), hook: func(int64) { r.Discard() }}
	r = NewReaderSize(h, 16, Limits{})
	v, err := r.ReadValue()
	if err != nil || v.Type != TypePush || len(v.Elems) != 2 || string(v.Elems[1].Str) != "hi" {
		t.Fatalf("push: %v %v", v, err)
	}
	r.Discard() // outside ReadValue: no effect on the next value
	h.hook = func(int64) {}
	if v, err := r.ReadValue(); err != nil || string(v.Str) != "OK" {
		t.Fatalf("next: %v %v", v, err)
	}
}

// The small strings of an aggregate share backing arrays, but none can overwrite
// another, and no array is shared between two replies.
func TestSharedStringsDoNotAlias(t *testing.T) {
	in := []byte("*3\r\n$1\r\na\r\n$1\r\nb\r\n$0\r\n\r\n*1\r\n$1\r\nc\r\n")
	r := NewReader(bytes.NewReader(in), Limits{})
	v, err := r.ReadValue()
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range v.Elems {
		if cap(e.Str) != len(e.Str) || e.Str == nil {
			t.Fatalf("element %q: cap %d, len %d", e.Str, cap(e.Str), len(e.Str))
		}
	}
	_ = append(v.Elems[0].Str, 'X')
	if string(v.Elems[1].Str) != "b" {
		t.Fatalf("appending to one element changed the next: %q", v.Elems[1].Str)
	}
	w, err := r.ReadValue()
	if err != nil || string(w.Elems[0].Str) != "c" {
		t.Fatalf("second reply: %v %v", w, err)
	}
	if &v.Elems[0].Str[:1][0] == &w.Elems[0].Str[:1][0] {
		t.Fatal("two replies share a backing array")
	}
}
