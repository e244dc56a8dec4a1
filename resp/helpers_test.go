package resp

import (
	"bytes"
	"errors"
	"io"
	"testing"
	"testing/iotest"
)

// loopReader reads data over and over, forever, so that benchmarks and allocation tests
// measure decoding rather than setup.
type loopReader struct {
	data []byte
	off  int
}

func (l *loopReader) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		c := copy(p[n:], l.data[l.off:])
		n += c
		l.off = (l.off + c) % len(l.data)
	}
	return n, nil
}

// readAll decodes every value of in, stopping at the first error (returned; nil for a clean
// io.EOF).
func readAll(rd io.Reader, lim Limits) ([]Value, error) {
	r := NewReader(rd, lim)
	var vs []Value
	for {
		v, err := r.ReadValue()
		if err == io.EOF {
			return vs, nil
		}
		if err != nil {
			return vs, err
		}
		vs = append(vs, v)
	}
}

// readers returns in behind readers that deliver it in different ways; every one must give
// the same values and the same error.
func readers(in []byte) map[string]func() *Reader {
	return map[string]func() *Reader{
		"whole":   func() *Reader { return NewReader(bytes.NewReader(in), Limits{}) },
		"onebyte": func() *Reader { return NewReader(iotest.OneByteReader(bytes.NewReader(in)), Limits{}) },
		"half":    func() *Reader { return NewReader(iotest.HalfReader(bytes.NewReader(in)), Limits{}) },
		"dataerr": func() *Reader { return NewReader(iotest.DataErrReader(bytes.NewReader(in)), Limits{}) },
		"tiny":    func() *Reader { return NewReaderSize(bytes.NewReader(in), 16, Limits{}) },
		"tiny1":   func() *Reader { return NewReaderSize(iotest.OneByteReader(bytes.NewReader(in)), 16, Limits{}) },
	}
}

// errKind names the class of err for comparisons: the most specific of the sentinels.
func errKind(err error) string {
	switch {
	case err == nil:
		return "nil"
	case errors.Is(err, ErrTooLarge):
		return "too-large"
	case errors.Is(err, ErrTooDeep):
		return "too-deep"
	case errors.Is(err, ErrProtocol):
		return "protocol"
	case err == io.EOF:
		return "eof"
	case err == io.ErrUnexpectedEOF:
		return "unexpected-eof"
	}
	return "other: " + err.Error()
}

func mustEqual(t testing.TB, got, want Value) {
	t.Helper()
	if !got.Equal(want) {
		t.Fatalf("got  %v\nwant %v", got, want)
	}
}

// Constructors for expected values.
func simple(s string) Value { return Value{Type: TypeSimpleString, Str: []byte(s)} }
func bulk(s string) Value   { return Value{Type: TypeBulkString, Str: []byte(s)} }
func integer(n int64) Value { return Value{Type: TypeInteger, Int: n} }
func null() Value           { return Value{Type: TypeNull} }
func boolean(b bool) Value  { return Value{Type: TypeBoolean, Int: int64(b2i(b))} }
func double(f float64) Value {
	return Value{Type: TypeDouble, Float: f}
}
func errv(msg string) Value { return Value{Type: TypeError, Str: []byte(msg), Err: ParseError(msg)} }
func agg(t Type, elems ...Value) Value {
	if elems == nil {
		elems = []Value{}
	}
	return Value{Type: t, Elems: elems}
}
func withAttrs(v Value, attrs ...Value) Value { v.Attrs = attrs; return v }
