package resp

import (
	"bufio"
	"bytes"
)

// Readiness of the buffered bytes, for an owner that must not block in ReadValue (a
// caller reading its own reply up to its deadline: it reads more with Fill until a
// whole value is buffered, then decodes it without touching the underlying reader).
const (
	// NotReady: the buffered bytes are the start of a value; more must be read.
	NotReady = iota
	// Ready: a whole value is buffered: ReadValue returns it without reading more.
	Ready
	// ReadyUnknown: the value's end cannot be found ahead of decoding it (a streamed
	// RESP3 string or aggregate, nesting deeper than the scan goes, or malformed bytes
	// whose error ReadValue will report): decode it where blocking is allowed.
	ReadyUnknown
)

// maxReadyDepth is how deep Ready looks into nested aggregates before giving up.
const maxReadyDepth = 8

// Ready reports whether a whole value (with any attributes before it) is buffered:
// NotReady, Ready or ReadyUnknown. It reads nothing and decodes nothing.
func (r *Reader) Ready() int {
	b, _ := r.br.Peek(r.br.Buffered())
	_, st := scanValue(b, 0)
	return st
}

// Fill reads from the underlying reader once, adding what it returns to the buffered
// bytes, which it keeps. It returns the underlying reader's error (a timeout leaves the
// buffer as it was), or bufio.ErrBufferFull when the buffer has no room left: the
// value is larger than the buffer, and must be decoded by ReadValue.
func (r *Reader) Fill() error {
	n := r.br.Buffered() + 1
	if n > r.br.Size() {
		return bufio.ErrBufferFull
	}
	_, err := r.br.Peek(n)
	return err
}

// scanValue finds the end of the value at the start of b: its length and Ready, or
// NotReady / ReadyUnknown.
func scanValue(b []byte, depth int) (int, int) {
	i := bytes.IndexByte(b, '\n')
	if i < 0 {
		return 0, NotReady
	}
	if i < 2 || b[i-1] != '\r' {
		return 0, ReadyUnknown
	}
	typ, line, end := Type(b[0]), b[1:i-1], i+1
	switch typ {
	case TypeSimpleString, TypeError, TypeInteger, TypeNull, TypeDouble, TypeBoolean, TypeBigNumber:
		return end, Ready
	case TypeBulkString, TypeBulkError, TypeVerbatim:
		n, ok := scanLen(line)
		if !ok {
			return 0, ReadyUnknown
		}
		if n < 0 {
			return end, Ready
		}
		if int64(len(b)-end) < n+2 {
			return 0, NotReady
		}
		return end + int(n) + 2, Ready
	case TypeArray, TypeSet, TypePush, TypeMap, TypeAttribute:
		n, ok := scanLen(line)
		if !ok || depth >= maxReadyDepth {
			return 0, ReadyUnknown
		}
		if n < 0 {
			return end, Ready
		}
		if typ == TypeMap || typ == TypeAttribute {
			n *= 2
		}
		if typ == TypeAttribute {
			n++ // the value the attributes belong to follows them
		}
		for ; n > 0; n-- {
			m, st := scanValue(b[end:], depth+1)
			if st != Ready {
				return 0, st
			}
			end += m
		}
		return end, Ready
	}
	return 0, ReadyUnknown
}

// scanLen parses a length line: a decimal (or -1), at most 18 digits.
func scanLen(b []byte) (int64, bool) {
	if len(b) == 2 && b[0] == '-' && b[1] == '1' {
		return -1, true
	}
	if len(b) == 0 || len(b) > 18 {
		return 0, false
	}
	var n int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}
