package resp

import (
	"bufio"
	"io"
	"unsafe"
)

const (
	defaultBufSize = 16 << 10 // bufio buffer of NewReader
	bulkChunk      = 64 << 10 // largest allocation made before the bytes of a bulk arrive
	bulkPiece      = 1 << 20  // a large bulk is read at most this much at a time
	copyPiece      = 64 << 10 // and copied (when its buffer grows) this much between yields
	maxKeptLine    = 16 << 10 // bytes of long-line buffer kept between two ReadValue calls
	firstElems     = 8        // elements allocated for an aggregate once its first is read
	slabMax        = 16 << 10 // largest shared backing array for an aggregate's small strings
	slabElem       = MaxShared
)

// MaxShared is the length up to which the strings inside one aggregate reply may share
// a backing array (see Value.Str).
const MaxShared = 512

// Reader decodes RESP2 and RESP3 values from a byte stream. It is not safe for concurrent
// use. See the package documentation for the handling of hostile input and of errors.
type Reader struct {
	br   *bufio.Reader
	src  io.Reader // what br reads from
	lim  Limits
	long []byte // a line longer than the bufio buffer, assembled here
	// slab is the unused part of a backing array shared by the small strings of the
	// aggregate being read (one allocation for many elements); it never outlives the
	// ReadValue call, so no two replies share an array. left is how many elements the
	// innermost aggregate still expects (sizes the next slab).
	slab []byte
	left int64
	// discard is set by Discard: the rest of the current value is consumed, not kept.
	// keep is set while a top-level push is read (never discarded: it is not a reply).
	discard, keep bool
}

// NewReader returns a Reader over rd with a 16 KiB buffer. The zero fields of lim take
// their defaults (see [Limits]).
func NewReader(rd io.Reader, lim Limits) *Reader {
	return NewReaderSize(rd, defaultBufSize, lim)
}

// NewReaderSize is like [NewReader] with a buffer of the given size (at least 16 bytes).
// Lines longer than the buffer are still read, up to [Limits.MaxLineLen].
func NewReaderSize(rd io.Reader, size int, lim Limits) *Reader {
	src := own(rd)
	return &Reader{br: bufio.NewReaderSize(src, size), src: src, lim: lim.withDefaults()}
}

// SetBufferSize replaces the read buffer by one of size bytes (at least 16) when no
// byte is buffered, and reports whether it did. A connection can so start with a small
// buffer and take a larger one once replies come in bulk.
func (r *Reader) SetBufferSize(size int) bool {
	if r.br.Buffered() != 0 {
		return false
	}
	if size != r.br.Size() {
		r.br = bufio.NewReaderSize(r.src, size)
	}
	return true
}

// BufferSize returns the size of the read buffer.
func (r *Reader) BufferSize() int { return r.br.Size() }

// own keeps bufio from using rd as the Reader's buffer when rd is itself a *bufio.Reader:
// the Reader always has a buffer of its own.
func own(rd io.Reader) io.Reader {
	if _, ok := rd.(*bufio.Reader); ok {
		return struct{ io.Reader }{rd}
	}
	return rd
}

// Reset discards any buffered data and makes r read from rd, keeping its limits.
func (r *Reader) Reset(rd io.Reader) {
	r.src = own(rd)
	r.br.Reset(r.src)
	r.slab, r.discard, r.keep = nil, false, false
}

// Buffered returns the number of bytes that have been read from the underlying reader but
// not yet decoded.
func (r *Reader) Buffered() int { return r.br.Buffered() }

// NextType returns the type of the next buffered value (its first byte), without
// reading or decoding anything; false when nothing is buffered.
func (r *Reader) NextType() (Type, bool) {
	if r.br.Buffered() == 0 {
		return 0, false
	}
	b, _ := r.br.Peek(1)
	return Type(b[0]), true
}

// Limits returns the limits in force, with defaults applied.
func (r *Reader) Limits() Limits { return r.lim }

// ReadValue reads one complete value. Attributes that precede it are attached to its Attrs.
// A server error reply is returned as a Value of TypeError or TypeBulkError with err == nil.
//
// err is io.EOF only when the stream ended cleanly before the first byte of a value, and
// io.ErrUnexpectedEOF when it ended inside one; a malformed stream or a limit breach gives a
// [*ProtocolError]; other errors of the underlying reader are returned as they are.
//
// A value dropped by [Reader.Discard] while it was being read is returned as the zero
// Value with a nil error.
func (r *Reader) ReadValue() (Value, error) {
	var v Value
	r.discard, r.keep = false, false
	err := r.readValue(&v, 0, true)
	r.slab = nil
	if err != nil || r.discard {
		v = Value{}
	}
	r.discard, r.keep = false, false
	return v, err
}

// Discard makes the Reader drop the value it is reading: the rest of it is consumed
// from the stream without being kept, so no more memory is allocated for it, and
// ReadValue returns the zero Value. It is meant to be called from within the
// underlying io.Reader's Read (the only code that runs during ReadValue), by an owner
// that learns mid-value that nobody wants it; outside ReadValue it has no effect on the
// next value. A top-level RESP3 push frame is never discarded. Limits still apply.
func (r *Reader) Discard() {
	if !r.keep {
		r.discard = true
	}
}

// readValue reads one value at the given nesting depth, with the attributes before it,
// into *v, which must be the zero Value. top is true for the value ReadValue was asked for,
// whose clean absence is io.EOF. Values are decoded in place rather than returned: a Value
// is 120 bytes, and copying it up every level costs more than decoding a small reply.
func (r *Reader) readValue(v *Value, depth int, top bool) error {
	var attrs []Value
	for {
		line, err := r.readLine(top)
		if err != nil {
			return err
		}
		top = false // an attribute has been read: the value must follow
		typ := Type(line[0])
		if typ == TypePush && depth == 0 {
			r.keep, r.discard = true, false // a push is not the reply being given up
		}
		if typ == TypeAttribute {
			// Attributes at the top are kept: whether the value they annotate is a
			// push (never discarded) is not known yet.
			keep := r.keep
			if depth == 0 {
				r.keep, r.discard = true, false
			}
			a, err := r.readElems(typ, line[1:], depth)
			r.keep = keep
			if err != nil {
				return err
			}
			if len(a) == 0 {
				continue // an empty attribute leaves Attrs nil
			}
			if attrs == nil {
				attrs = a
			} else {
				attrs = append(attrs, a...) // consecutive attributes are merged
			}
			continue
		}
		if err := r.decode(v, typ, line[1:], depth); err != nil {
			return err
		}
		v.Attrs = attrs
		return nil
	}
}

// decode decodes into *v the value whose first line (after the type byte) is rest. rest is
// only valid until the next read from r.br.
func (r *Reader) decode(v *Value, typ Type, rest []byte, depth int) error {
	switch typ {
	case TypeSimpleString:
		v.Type, v.Str = typ, r.simpleString(rest, depth)
	case TypeBigNumber:
		if !validBigNumber(rest) {
			return protoErr("invalid big number %s", quoteCut(rest))
		}
		v.Type, v.Str = typ, clone(rest)
	case TypeError:
		setError(v, typ, clone(rest))
	case TypeInteger:
		n, st := parseInt(rest)
		switch st {
		case numInvalid:
			return protoErr("invalid integer %s", quoteCut(rest))
		case numOverflow:
			return protoErr("integer %s overflows int64", quoteCut(rest))
		}
		v.Type, v.Int = typ, n
	case TypeNull:
		if len(rest) != 0 {
			return protoErr("invalid null %s", quoteCut(rest))
		}
		v.Type = typ
	case TypeBoolean:
		if len(rest) != 1 || rest[0] != 't' && rest[0] != 'f' {
			return protoErr("invalid boolean %s", quoteCut(rest))
		}
		v.Type, v.Int = typ, int64(b2i(rest[0] == 't'))
	case TypeDouble:
		f, ok := parseDouble(rest)
		if !ok {
			return protoErr("invalid double %s", quoteCut(rest))
		}
		v.Type, v.Float = typ, f
	case TypeBulkString, TypeBulkError, TypeVerbatim:
		return r.readBlob(v, typ, rest, depth)
	case TypeArray, TypeSet, TypePush, TypeMap:
		if typ == TypeArray && isNullLen(rest) {
			v.Type = TypeNull // RESP2 null array
			return nil
		}
		elems, err := r.readElems(typ, rest, depth)
		if err != nil {
			return err
		}
		v.Type, v.Elems = typ, elems
	case ';', '.':
		return protoErr("streamed string chunk (type byte '%c') is not supported", byte(typ))
	default:
		return unexpectedType(byte(typ))
	}
	return nil
}

// readBlob reads a length-prefixed string: bulk string, bulk error or verbatim string.
func (r *Reader) readBlob(v *Value, typ Type, rest []byte, depth int) error {
	if typ == TypeBulkString && isNullLen(rest) {
		v.Type = TypeNull // RESP2 null bulk string
		return nil
	}
	n, err := r.length(typ, rest, r.lim.MaxBulkLen)
	if err != nil {
		return err
	}
	if typ == TypeVerbatim && n < 4 {
		return protoErr("verbatim string of length %d is shorter than its format prefix", n)
	}
	b, err := r.readBulk(n, depth)
	if err != nil || r.discard {
		return err
	}
	switch typ {
	case TypeBulkError:
		setError(v, typ, b)
	case TypeVerbatim:
		if b[3] != ':' {
			return protoErr("verbatim string %s has no ':' after its format", quoteCut(b[:4]))
		}
		v.Type, v.Format, v.Str = typ, verbatimFormat(b[:3]), b[4:]
	default:
		v.Type, v.Str = typ, b
	}
	return nil
}

// readElems reads the elements of an aggregate (pairs for a map or attribute), decoding
// each in place in the slice returned. The slice is allocated once the first element
// has been read and grows with the elements read (at most 8 times their number), never
// with a declared length alone; a valid reply ends with a slice of exactly its length.
func (r *Reader) readElems(typ Type, rest []byte, depth int) ([]Value, error) {
	n, err := r.length(typ, rest, r.lim.MaxAggregateLen)
	if err != nil {
		return nil, err
	}
	if depth >= r.lim.MaxDepth {
		return nil, tooDeep(r.lim.MaxDepth)
	}
	if typ == TypeMap || typ == TypeAttribute {
		n *= 2 // cannot overflow: withDefaults bounds MaxAggregateLen
	}
	if n == 0 {
		return []Value{}, nil
	}
	var first Value
	r.left = n
	if err := r.readValue(&first, depth+1, false); err != nil {
		return nil, err
	}
	if r.discard {
		return nil, r.skipElems(n-1, depth)
	}
	elems := make([]Value, 1, min(n, firstElems))
	elems[0] = first
	for i := int64(1); i < n; i++ {
		if r.discard {
			return nil, r.skipElems(n-i, depth)
		}
		if len(elems) == cap(elems) {
			// Double; once an eighth of the declared elements have come, believe the
			// rest will: one last allocation of exactly n spares the copies of
			// further doublings (a Value is 120 bytes with pointers: copying is costly).
			c := 2 * int64(cap(elems))
			if 4*c >= n {
				c = n
			}
			elems = growValues(elems, c)
		}
		elems = elems[:i+1]
		r.left = n - i
		if err := r.readValue(&elems[i], depth+1, false); err != nil {
			return nil, err
		}
	}
	return elems, nil
}

// length parses and checks the length prefix of a value of type typ. -1 is not accepted:
// the callers handle the RESP2 nulls first.
func (r *Reader) length(typ Type, rest []byte, limit int64) (int64, error) {
	if len(rest) == 1 && rest[0] == '?' {
		return 0, protoErr("streamed %s (%c?) is not supported", typ, byte(typ))
	}
	n, st := parseLen(rest, false)
	switch st {
	case numInvalid:
		return 0, protoErr("invalid length %s", quoteCut(rest))
	case numOverflow:
		return 0, tooLarge("%s length %s exceeds limit %d", lengthName(typ), cut(rest), limit)
	}
	if n > limit {
		return 0, tooLarge("%s length %d exceeds limit %d", lengthName(typ), n, limit)
	}
	return n, nil
}

// readLine reads one line and returns it without its CRLF; it is at least one byte long
// (the type byte) and valid until the next read. When start is true and the stream ends
// before the line's first byte, the error is io.EOF; any other end is io.ErrUnexpectedEOF.
func (r *Reader) readLine(start bool) ([]byte, error) {
	line, err := r.br.ReadSlice('\n')
	if err != nil {
		if err != bufio.ErrBufferFull {
			return nil, eofErr(err, start && len(line) == 0)
		}
		if line, err = r.readLongLine(line); err != nil {
			return nil, err
		}
	}
	n := len(line) - 2
	if n < 0 || line[n] != '\r' {
		return nil, protoErr("line not terminated by CRLF (LF without CR)")
	}
	line = line[:n]
	if len(line) == 0 {
		return nil, protoErr("empty line where a value was expected")
	}
	if len(line)-1 > r.lim.MaxLineLen {
		return nil, tooLarge("line longer than %d bytes", r.lim.MaxLineLen)
	}
	for _, c := range line {
		if c == '\r' {
			return nil, protoErr("CR without LF inside a line")
		}
	}
	return line, nil
}

// readLongLine finishes reading a line that did not fit in the bufio buffer; first is its
// start. It stops with ErrTooLarge as soon as the line exceeds MaxLineLen.
func (r *Reader) readLongLine(first []byte) ([]byte, error) {
	limit := r.lim.MaxLineLen + 3 // type byte and CRLF
	buf := append(r.long[:0], first...)
	defer func() {
		if cap(buf) <= maxKeptLine {
			r.long = buf[:0]
		}
	}()
	for {
		if len(buf) > limit {
			return nil, tooLarge("line longer than %d bytes", r.lim.MaxLineLen)
		}
		chunk, err := r.br.ReadSlice('\n')
		buf = append(buf, chunk...)
		if err == nil {
			return buf, nil
		}
		if err != bufio.ErrBufferFull {
			return nil, eofErr(err, false)
		}
	}
}

// eofErr maps io.EOF to io.ErrUnexpectedEOF unless the stream ended cleanly between values.
func eofErr(err error, clean bool) error {
	if err == io.EOF && !clean {
		return io.ErrUnexpectedEOF
	}
	return err
}

func isNullLen(b []byte) bool { return len(b) == 2 && b[0] == '-' && b[1] == '1' }

func setError(v *Value, typ Type, msg []byte) {
	v.Type, v.Str, v.Err = typ, msg, ParseError(string(msg))
}

// verbatimFormat returns the format of a verbatim string, without allocating for the two
// formats Redis sends.
func verbatimFormat(b []byte) string {
	switch string(b) {
	case "txt":
		return "txt"
	case "mkd":
		return "mkd"
	}
	return string(b)
}

func clone(b []byte) []byte { return append(make([]byte, 0, len(b)), b...) }

// The commonest simple strings, shared: read-only memory (a write through them faults
// instead of corrupting every later reply), capacity = length (an append copies).
var (
	strOK     = unsafe.Slice(unsafe.StringData("OK"), 2)
	strQueued = unsafe.Slice(unsafe.StringData("QUEUED"), 6)
	strPong   = unsafe.Slice(unsafe.StringData("PONG"), 4)
)

// simpleString returns a simple string's payload: a shared slice for OK, QUEUED and
// PONG, a copy otherwise (inside an aggregate, in a shared array: see carve).
func (r *Reader) simpleString(b []byte, depth int) []byte {
	switch string(b) { // no allocation: the compiler compares in place
	case "OK":
		return strOK
	case "QUEUED":
		return strQueued
	case "PONG":
		return strPong
	}
	if depth > 0 && len(b) <= slabElem {
		return r.carve(b)
	}
	return clone(b)
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

func lengthName(t Type) string {
	switch t {
	case TypeBulkString:
		return "bulk"
	case TypeBulkError:
		return "bulk error"
	case TypeVerbatim:
		return "verbatim"
	}
	return t.String()
}

func unexpectedType(b byte) error {
	if b >= 'A' && b <= 'Z' || b >= 'a' && b <= 'z' {
		return protoErr("unexpected type byte '%c' (0x%02x); inline commands are not supported", b, b)
	}
	if b > ' ' && b < 0x7f {
		return protoErr("unexpected type byte '%c' (0x%02x)", b, b)
	}
	return protoErr("unexpected type byte 0x%02x", b)
}
