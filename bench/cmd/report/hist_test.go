package main

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

func TestHistQuantiles(t *testing.T) {
	var h hist
	var all []time.Duration
	for range 100000 {
		d := time.Duration(rand.ExpFloat64() * float64(200*time.Microsecond))
		h.record(d)
		all = append(all, d)
	}
	slices.Sort(all)
	for _, q := range []float64{0.5, 0.9, 0.99, 0.999} {
		want := all[int(q*float64(len(all)-1))]
		got := h.quantile(q)
		if diff := float64(got-want) / float64(want); diff > 0.02 || diff < -0.02 {
			t.Errorf("q%v: got %v, want %v (±2%%)", q, got, want)
		}
	}
	if h.quantile(1) != all[len(all)-1] {
		t.Errorf("max: got %v, want %v", h.quantile(1), all[len(all)-1])
	}
}

func TestBuckets(t *testing.T) {
	for _, v := range []uint64{0, 1, 63, 64, 65, 127, 128, 1000, 1 << 40, 1<<63 - 1} {
		i := bucketOf(v)
		if i < 0 || i >= histBuckets {
			t.Fatalf("bucketOf(%d) = %d out of range", v, i)
		}
		mid := bucketValue(i)
		if v >= subCount && (float64(mid)-float64(v))/float64(v) > 1.0/subCount {
			t.Errorf("bucket of %d has middle %d", v, mid)
		}
	}
}
