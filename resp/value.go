package resp

import (
	"bytes"
	"math"
)

// Value is one decoded RESP value. Only the fields that its Type uses are meaningful; the
// others are zero in values returned by a [Reader].
type Value struct {
	// Type is the RESP type of the value.
	Type Type
	// Str is the payload of SimpleString, BulkString, BigNumber (the decimal text as sent),
	// Verbatim (without the "txt:" prefix), and Error and BulkError (the message). A Reader
	// returns a fresh copy that does not alias its buffer; the caller may keep or modify
	// it — except for the simple strings OK, QUEUED and PONG, which share one read-only
	// array each (so that decoding the commonest replies allocates nothing): copy those
	// before modifying them. The small strings inside one aggregate reply may share a
	// backing array (one allocation for many elements, up to 16 KiB; strings of up to
	// MaxShared bytes); each has a capacity equal to its length, so appending to one
	// copies it, and no array is shared between two replies. Keeping one such string
	// keeps its whole array alive, though: a 16-byte string kept from each of many large
	// replies can hold a thousand times its size. Copy a small string you keep from a
	// large aggregate (bytes.Clone, or string(…)); redline's Result accessors do.
	Str []byte
	// Int is the value of an Integer, and of a Boolean: 1 for true, 0 for false.
	Int int64
	// Float is the value of a Double, which may be ±Inf or NaN.
	Float float64
	// Format is the three-letter format of a Verbatim string, such as "txt" or "mkd".
	Format string
	// Elems are the elements of an Array, Set or Push, and of a Map its keys and values
	// alternating (len(Elems) is twice the number of pairs).
	Elems []Value
	// Attrs are the RESP3 attributes that preceded the value on the wire, keys and values
	// alternating; nil when there were none. Consecutive attributes are merged.
	Attrs []Value
	// Err is the parsed message of an Error or BulkError, nil for every other type.
	Err *Error
}

// IsNull reports whether v is a null: RESP3 null, or RESP2 null bulk string or null array,
// all of which decode as TypeNull.
func (v Value) IsNull() bool { return v.Type == TypeNull }

// IsError reports whether v is a server error reply (TypeError or TypeBulkError).
func (v Value) IsError() bool { return v.Type == TypeError || v.Type == TypeBulkError }

// errMsg returns the message of an error value: Str, or Err.Msg when Str is empty.
func (v *Value) errMsg() []byte {
	if len(v.Str) == 0 && v.Err != nil {
		return []byte(v.Err.Msg)
	}
	return v.Str
}

// Equal reports whether v and o are the same RESP value: same type, same attributes, and
// equal in the fields that their type uses (so two Booleans are equal when both Int are
// non-zero, two Doubles when both Float are NaN, and an empty Str equals a nil one). Error
// values compare by message (Str, or Err.Msg when Str is empty).
func (v Value) Equal(o Value) bool {
	return equal(&v, &o)
}

func equal(a, b *Value) bool {
	if a.Type != b.Type || !equalSlices(a.Attrs, b.Attrs) {
		return false
	}
	switch a.Type {
	case TypeSimpleString, TypeBulkString, TypeBigNumber:
		return bytes.Equal(a.Str, b.Str)
	case TypeError, TypeBulkError:
		return bytes.Equal(a.errMsg(), b.errMsg())
	case TypeVerbatim:
		return a.Format == b.Format && bytes.Equal(a.Str, b.Str)
	case TypeInteger:
		return a.Int == b.Int
	case TypeBoolean:
		return (a.Int != 0) == (b.Int != 0)
	case TypeDouble:
		if math.IsNaN(a.Float) || math.IsNaN(b.Float) {
			return math.IsNaN(a.Float) && math.IsNaN(b.Float)
		}
		return math.Float64bits(a.Float) == math.Float64bits(b.Float)
	case TypeArray, TypeSet, TypePush, TypeMap, TypeAttribute:
		return equalSlices(a.Elems, b.Elems)
	}
	return true // TypeNull, and unknown types (which carry nothing)
}

func equalSlices(a, b []Value) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !equal(&a[i], &b[i]) {
			return false
		}
	}
	return true
}
