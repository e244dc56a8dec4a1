package main

import (
	"math/bits"
	"time"
)

// hist is a log-linear latency histogram in the style of HdrHistogram: values below
// 64 ns are exact; above, each power of two is split into 64 buckets, so a recorded
// value is known to within 1/64 (1.6%). It records without allocating; one per
// goroutine, merged after the run.
type hist struct {
	counts [histBuckets]uint64
	n      uint64
	max    time.Duration
}

const (
	subBits     = 6
	subCount    = 1 << subBits
	histBuckets = subCount + (64-subBits)*subCount
)

func bucketOf(v uint64) int {
	if v < subCount {
		return int(v)
	}
	shift := bits.Len64(v) - subBits - 1
	return subCount + shift*subCount + int(v>>uint(shift)) - subCount
}

// bucketValue returns the middle of bucket i.
func bucketValue(i int) uint64 {
	if i < subCount {
		return uint64(i)
	}
	shift := (i - subCount) / subCount
	base := uint64(subCount+(i-subCount)%subCount) << uint(shift)
	return base + (uint64(1)<<uint(shift))/2
}

func (h *hist) record(d time.Duration) {
	if d < 0 {
		d = 0
	}
	h.counts[bucketOf(uint64(d))]++
	h.n++
	if d > h.max {
		h.max = d
	}
}

func (h *hist) merge(o *hist) {
	for i, c := range o.counts {
		h.counts[i] += c
	}
	h.n += o.n
	if o.max > h.max {
		h.max = o.max
	}
}

// quantile returns the value at quantile q (0..1); the maximum for q >= 1.
func (h *hist) quantile(q float64) time.Duration {
	if h.n == 0 {
		return 0
	}
	if q >= 1 {
		return h.max
	}
	rank := uint64(q*float64(h.n-1)) + 1
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			v := time.Duration(bucketValue(i))
			if v > h.max {
				v = h.max
			}
			return v
		}
	}
	return h.max
}
