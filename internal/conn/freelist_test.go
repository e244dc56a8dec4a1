package conn

import (
	"runtime"
	"testing"
)

func TestFreeList(t *testing.T) {
	var f freeList[int]
	if f.get() != nil {
		t.Fatal("empty list returned an object")
	}
	x := new(int)
	f.put(x)
	runtime.GC() // unlike a sync.Pool, the list keeps its objects across collections
	if got := f.get(); got != x {
		t.Fatalf("get = %p, want the object put (%p)", got, x)
	}
	if f.get() != nil {
		t.Fatal("object returned twice")
	}
	// Bounded: at most freeListShards·freeListPer objects are kept.
	for range 4 * freeListShards * freeListPer {
		f.put(new(int))
	}
	n := 0
	for f.get() != nil {
		n++
	}
	if n > freeListShards*freeListPer || n < freeListPer {
		t.Fatalf("kept %d objects, want between %d and %d", n, freeListPer, freeListShards*freeListPer)
	}
}
