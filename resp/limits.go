package resp

import "math"

// Default limits, used for the zero fields of a [Limits].
const (
	DefaultMaxBulkLen      = 512 << 20 // 512 MiB, Redis's own proto-max-bulk-len default
	DefaultMaxAggregateLen = 1 << 24   // 16,777,216 elements or pairs
	DefaultMaxDepth        = 128
	DefaultMaxLineLen      = 64 << 10 // 64 KiB
)

// Limits bound what a [Reader] accepts, so that a hostile or broken peer cannot make it
// allocate without bound or recurse without bound. A length prefix over its limit is an
// error before anything is allocated. The zero value of each field (or a negative one) means
// its default.
type Limits struct {
	// MaxBulkLen is the maximum length in bytes of a bulk string, verbatim string or bulk
	// error. Zero means DefaultMaxBulkLen (512 MiB).
	MaxBulkLen int64
	// MaxAggregateLen is the maximum number of elements of an array, set or push, and of
	// pairs of a map or attribute. Zero means DefaultMaxAggregateLen (1<<24).
	MaxAggregateLen int64
	// MaxDepth is the maximum nesting depth of aggregates (attributes included): a flat
	// array has depth 1. Zero means DefaultMaxDepth (128). The Reader recurses once per
	// level, so this also bounds its stack.
	MaxDepth int
	// MaxLineLen is the maximum length in bytes of the text of a line-based value or header
	// (after the type byte, before CRLF): simple strings, errors, integers, doubles, big
	// numbers, booleans and length prefixes. Zero means DefaultMaxLineLen (64 KiB).
	MaxLineLen int
}

// DefaultLimits returns the limits a Reader uses when given a zero Limits.
func DefaultLimits() Limits {
	return Limits{
		MaxBulkLen:      DefaultMaxBulkLen,
		MaxAggregateLen: DefaultMaxAggregateLen,
		MaxDepth:        DefaultMaxDepth,
		MaxLineLen:      DefaultMaxLineLen,
	}
}

// withDefaults returns l with its zero or negative fields set to their defaults.
func (l Limits) withDefaults() Limits {
	d := DefaultLimits()
	if l.MaxBulkLen <= 0 {
		l.MaxBulkLen = d.MaxBulkLen
	}
	if l.MaxAggregateLen <= 0 {
		l.MaxAggregateLen = d.MaxAggregateLen
	}
	if l.MaxDepth <= 0 {
		l.MaxDepth = d.MaxDepth
	}
	if l.MaxLineLen <= 0 {
		l.MaxLineLen = d.MaxLineLen
	}
	// Keep lengths far from overflow: map pairs are doubled, and a bulk is held in one slice.
	l.MaxBulkLen = min(l.MaxBulkLen, math.MaxInt/2)
	l.MaxAggregateLen = min(l.MaxAggregateLen, math.MaxInt/4)
	l.MaxLineLen = min(l.MaxLineLen, math.MaxInt/2)
	return l
}
