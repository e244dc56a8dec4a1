package resp

import (
	"bytes"
	"testing"
)

func TestSetBufferSize(t *testing.T) {
	var in []byte
	for range 3 {
		in = AppendBulkString(in, "hello")
	}
	r := NewReaderSize(bytes.NewReader(in), 16, Limits{})
	if v, err := r.ReadValue(); err != nil || string(v.Str) != "hello" {
		t.Fatalf("first value: %v %v", v, err)
	}
	if r.Buffered() == 0 {
		t.Fatal("test needs buffered bytes after the first value")
	}
	if r.SetBufferSize(4096) {
		t.Fatal("SetBufferSize with bytes buffered: true")
	}
	for range 2 {
		if v, err := r.ReadValue(); err != nil || string(v.Str) != "hello" {
			t.Fatalf("value: %v %v", v, err)
		}
	}
	if !r.SetBufferSize(4096) || r.BufferSize() != 4096 {
		t.Fatalf("SetBufferSize when empty: size %d", r.BufferSize())
	}
}

// A large aggregate does not leave its scratch space behind.
func TestScratchShrinksAfterLargeReply(t *testing.T) {
	elems := make([]Value, 5000)
	for i := range elems {
		elems[i] = Value{Type: TypeInteger, Int: int64(i)}
	}
	in := AppendValue(nil, Value{Type: TypeArray, Elems: elems})
	in = AppendValue(in, Value{Type: TypeArray, Elems: elems[:10]})
	r := NewReader(bytes.NewReader(in), Limits{})
	for range 2 {
		if _, err := r.ReadValue(); err != nil {
			t.Fatal(err)
		}
		if cap(r.stack) > maxKeptStack {
			t.Fatalf("scratch stack of %d elements kept", cap(r.stack))
		}
	}
}
