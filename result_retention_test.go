package redline

import (
	"bytes"
	"fmt"
	"runtime"
	"testing"

	"github.com/redline-go/redline/resp"
)

// keptRetention decodes replies arrays of elems 16-byte strings, keeps one element of
// each (taken by keep), and returns the heap growth per byte kept.
func keptRetention(t *testing.T, keep func(v resp.Value) []byte) float64 {
	t.Helper()
	var stream []byte
	const replies, elems = 1000, 1024
	for i := range replies {
		stream = resp.AppendArrayHeader(stream, elems)
		for j := range elems {
			stream = resp.AppendBulkString(stream, fmt.Sprintf("id-%012d", i*elems+j)) // 16 bytes
		}
	}
	r := resp.NewReader(bytes.NewReader(stream), resp.Limits{})
	kept := make([][]byte, 0, replies)
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for range replies {
		v, err := r.ReadValue()
		if err != nil {
			t.Fatal(err)
		}
		kept = append(kept, keep(v))
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	retained := float64(int64(after.HeapAlloc) - int64(before.HeapAlloc))
	runtime.KeepAlive(kept)
	runtime.KeepAlive(r)
	runtime.KeepAlive(stream)
	return retained / (replies * 16)
}

// A small element kept through Result's accessors does not pin its reply's shared
// backing array (from review2: one kept 16-byte element of each of 1,000 replies kept
// 777 times the data alive). Kept from a resp.Value directly, it does: documented on
// resp.Value.Str, a choice that keeps decoding an LRANGE to ~150 allocations.
func TestKeptElementBytesDoNotPinReply(t *testing.T) {
	viaResult := keptRetention(t, func(v resp.Value) []byte {
		es, err := Result{val: v}.Slice()
		if err != nil {
			t.Fatal(err)
		}
		b, err := es[512].Bytes()
		if err != nil {
			t.Fatal(err)
		}
		return b
	})
	raw := keptRetention(t, func(v resp.Value) []byte { return v.Elems[512].Str })
	t.Logf("heap kept per byte kept: %.0f× via Result.Bytes, %.0f× via Value.Str (documented)", viaResult, raw)
	if viaResult > 8 {
		t.Fatalf("keeping 16-byte elements via Result.Slice()[i].Bytes() retains %.0f× the data: they pin their replies' shared arrays", viaResult)
	}
}
