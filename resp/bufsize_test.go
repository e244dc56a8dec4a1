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
