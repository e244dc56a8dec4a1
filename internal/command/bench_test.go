package command

import "testing"

var sinkInfo *Info

func BenchmarkLookupGET(b *testing.B) {
	args := []any{"GET", "key"}
	b.ReportAllocs()
	for b.Loop() {
		sinkInfo = Lookup(args)
	}
}

func BenchmarkLookupGETBytes(b *testing.B) {
	args := []any{[]byte("get"), []byte("key")}
	b.ReportAllocs()
	for b.Loop() {
		sinkInfo = Lookup(args)
	}
}

func BenchmarkLookupCONFIGGET(b *testing.B) {
	args := []any{"CONFIG", "GET", "maxmemory"}
	b.ReportAllocs()
	for b.Loop() {
		sinkInfo = Lookup(args)
	}
}

func BenchmarkKeyIndexesMSET10(b *testing.B) {
	args := a("MSET k0 v k1 v k2 v k3 v k4 v k5 v k6 v k7 v k8 v k9 v")
	in := Lookup(args)
	dst := make([]int, 0, 16)
	b.ReportAllocs()
	for b.Loop() {
		dst, _ = in.KeyIndexes(args, dst[:0])
	}
	if len(dst) != 10 {
		b.Fatal(dst)
	}
}

func BenchmarkKeyIndexesEVAL(b *testing.B) {
	args := a("EVAL script 2 k1 k2 arg")
	in := Lookup(args)
	dst := make([]int, 0, 16)
	b.ReportAllocs()
	for b.Loop() {
		dst, _ = in.KeyIndexes(args, dst[:0])
	}
}

func BenchmarkKeyIndexesXREAD(b *testing.B) {
	args := a("XREAD COUNT 10 BLOCK 0 STREAMS k1 k2 k3 0 0 0")
	in := Lookup(args)
	dst := make([]int, 0, 16)
	b.ReportAllocs()
	for b.Loop() {
		dst, _ = in.KeyIndexes(args, dst[:0])
	}
}
