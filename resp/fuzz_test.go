package resp

import (
	"bytes"
	"encoding/binary"
	"io"
	"math"
	"strings"
	"testing"
	"testing/iotest"
)

func FuzzReader(f *testing.F) {
	for _, tc := range validCases {
		f.Add([]byte(tc.in))
	}
	for _, tc := range invalidCases {
		in := tc.in
		if len(in) > 1024 {
			in = in[:1024]
		}
		f.Add([]byte(in))
	}
	for _, s := range []string{
		"$2147483647\r\n", "*2147483647\r\n", "%2147483647\r\n", "$9223372036854775807\r\n",
		"$-5\r\n", "*-7\r\n", "$-1\r\n*-1\r\n_\r\n",
		strings.Repeat("*1\r\n", 300),
		strings.Repeat("|1\r\n+a\r\n", 10) + "+b\r\n",
		"|1\r\n+ttl\r\n:1\r\n>2\r\n+invalidate\r\n*1\r\n$1\r\nk\r\n+OK\r\n",
		">4\r\n$9\r\nsubscribe\r\n$1\r\nc\r\n:1\r\n_\r\n",
		"*3\r\n+OK\r\n-MOVED 1 [::1]:7000\r\n!5\r\nASK x\r\n",
		"=4\r\ntxt:\r\n(0\r\n,-0\r\n#f\r\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		vs, err := readAll(bytes.NewReader(data), Limits{})
		// A reader fed one byte at a time sees the same stream.
		vs1, err1 := readAll(iotest.OneByteReader(bytes.NewReader(data)), Limits{})
		if len(vs) != len(vs1) || errKind(err) != errKind(err1) || err != nil && err.Error() != err1.Error() {
			t.Fatalf("readers disagree: %d values, %v; one byte at a time: %d values, %v", len(vs), err, len(vs1), err1)
		}
		for i := range vs {
			if !vs[i].Equal(vs1[i]) {
				t.Fatalf("value %d: %v, one byte at a time: %v", i, vs[i], vs1[i])
			}
		}
		if err == nil { // a valid stream: discarding every value frames it the same way
			var r *Reader
			h := &hookReader{src: iotest.OneByteReader(bytes.NewReader(data)), hook: func(int64) { r.Discard() }}
			r = NewReaderSize(h, 16, Limits{})
			for i := 0; ; i++ {
				v, errd := r.ReadValue()
				if errd == io.EOF && i == len(vs) {
					break
				}
				if errd != nil || i >= len(vs) {
					t.Fatalf("discarding: value %d: %v; want %d values", i, errd, len(vs))
				}
				if v.Type == TypePush && !v.Equal(vs[i]) || v.Type != TypePush && v.Type != 0 && !v.Equal(vs[i]) {
					t.Fatalf("discarding: value %d: %v, want %v or nothing", i, v, vs[i])
				}
			}
		}
		if len(data) <= 1<<16 {
			r := NewReaderSize(bytes.NewReader(data), 16, Limits{})
			for i := 0; ; i++ {
				v, err16 := r.ReadValue()
				if err16 != nil {
					if err16 == io.EOF {
						err16 = nil
					}
					if i != len(vs) || errKind(err16) != errKind(err) {
						t.Fatalf("16-byte buffer: %d values, %v; want %d, %v", i, err16, len(vs), err)
					}
					break
				}
				if i >= len(vs) || !v.Equal(vs[i]) {
					t.Fatalf("16-byte buffer: value %d differs: %v", i, v)
				}
			}
		}
		for _, v := range vs {
			checkRoundTrip(t, v)
		}
	})
}

// checkRoundTrip checks that v survives AppendValue and a Reader, and that its RESP2 form
// decodes into RESP2 types only.
func checkRoundTrip(t *testing.T, v Value) {
	t.Helper()
	enc := AppendValue(nil, v)
	r := NewReader(bytes.NewReader(enc), Limits{})
	back, err := r.ReadValue()
	if err != nil {
		t.Fatalf("re-reading %v encoded as %q: %v", v, enc, err)
	}
	if !back.Equal(v) {
		t.Fatalf("round trip changed the value:\n was %v\n now %v\n wire %q", v, back, enc)
	}
	if _, err := r.ReadValue(); err != io.EOF {
		t.Fatalf("after the value encoded as %q: %v, want io.EOF", enc, err)
	}
	enc2 := AppendValueRESP2(nil, v)
	r = NewReader(bytes.NewReader(enc2), Limits{})
	back2, err := r.ReadValue()
	if err != nil {
		t.Fatalf("re-reading RESP2 %q: %v", enc2, err)
	}
	if !isRESP2(back2) {
		t.Fatalf("RESP2 form %q decodes to RESP3 types: %v", enc2, back2)
	}
	if _, err := r.ReadValue(); err != io.EOF {
		t.Fatalf("after the RESP2 value %q: %v, want io.EOF", enc2, err)
	}
}

func isRESP2(v Value) bool {
	if v.Attrs != nil {
		return false
	}
	switch v.Type {
	case TypeSimpleString, TypeError, TypeInteger, TypeBulkString, TypeNull:
		return true
	case TypeArray:
		for _, e := range v.Elems {
			if !isRESP2(e) {
				return false
			}
		}
		return true
	}
	return false
}

func FuzzRoundTrip(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte("\x05\x0a\x00hello"))
	f.Add([]byte("\x00\x0a\x03\x00\x01a\x00\x02bc\x00\x04\x07"))
	f.Add(bytes.Repeat([]byte{0, 10, 1}, 40))                     // deep arrays
	f.Add(bytes.Repeat([]byte{8, 11, 2, 0, 3, 1, 0, 4, 7}, 10))   // maps with attributes
	f.Add([]byte{0, 7, 0xff, 0xf8, 0, 0, 0, 0, 0, 1, 0, 7, 0x80}) // NaN and -0 doubles
	f.Add([]byte("\x00\x0e\x03txt\x05hello\x00\x09\x06MOVED 1 a:1"))
	f.Fuzz(func(t *testing.T, data []byte) {
		g := &gen{b: data}
		v := g.value(0)
		checkRoundTrip(t, v)
		// The same stream, one byte at a time, several values in a row.
		enc := AppendValue(AppendValue(nil, v), v)
		r := NewReader(iotest.OneByteReader(bytes.NewReader(enc)), Limits{})
		for range 2 {
			back, err := r.ReadValue()
			if err != nil || !back.Equal(v) {
				t.Fatalf("one byte at a time: %v %v, want %v", back, err, v)
			}
		}
	})
}

// gen builds a Value tree from fuzz bytes, bounded in size and depth.
type gen struct {
	b     []byte
	nodes int
}

const (
	genMaxDepth = 12
	genMaxNodes = 300
)

func (g *gen) byte() byte {
	if len(g.b) == 0 {
		return 0
	}
	c := g.b[0]
	g.b = g.b[1:]
	return c
}

func (g *gen) bytes(n int) []byte {
	n = min(n, len(g.b))
	b := g.b[:n:n]
	g.b = g.b[n:]
	return append([]byte{}, b...)
}

func (g *gen) uint64() uint64 {
	var buf [8]byte
	copy(buf[:], g.bytes(8))
	return binary.LittleEndian.Uint64(buf[:])
}

// line returns up to n bytes with CR and LF removed, for types written on one line.
func (g *gen) line(n int) []byte {
	b := g.bytes(n)
	for i, c := range b {
		if c == '\r' || c == '\n' {
			b[i] = ' '
		}
	}
	return b
}

func (g *gen) value(depth int) Value {
	g.nodes++
	var attrs []Value
	if a := g.byte(); a%8 == 7 && depth < genMaxDepth && g.nodes < genMaxNodes {
		attrs = g.elems(depth+1, true)
	}
	v := g.scalarOrAggregate(depth)
	v.Attrs = attrs
	return v
}

func (g *gen) scalarOrAggregate(depth int) Value {
	kind := g.byte() % 15
	if kind >= 10 && (depth >= genMaxDepth || g.nodes >= genMaxNodes) {
		kind %= 10
	}
	n := int(g.byte())
	switch kind {
	case 0:
		return Value{Type: TypeSimpleString, Str: g.line(n)}
	case 1:
		msg := g.line(n)
		return Value{Type: TypeError, Str: msg, Err: ParseError(string(msg))}
	case 2:
		return Value{Type: TypeInteger, Int: int64(g.uint64())}
	case 3:
		return Value{Type: TypeBulkString, Str: g.bytes(n)}
	case 4:
		return Value{Type: TypeNull}
	case 5:
		return Value{Type: TypeBoolean, Int: int64(n % 2)}
	case 6:
		return Value{Type: TypeDouble, Float: math.Float64frombits(g.uint64())}
	case 7:
		digits := []byte{'0' + byte(n%10)}
		for _, c := range g.bytes(n % 64) {
			digits = append(digits, '0'+c%10)
		}
		if n%3 == 1 {
			digits = append([]byte{'-'}, digits...)
		}
		return Value{Type: TypeBigNumber, Str: digits}
	case 8:
		msg := g.bytes(n)
		return Value{Type: TypeBulkError, Str: msg, Err: ParseError(string(msg))}
	case 9:
		format := string(g.bytes(3))
		if len(format) < 3 {
			format = "txt"
		}
		return Value{Type: TypeVerbatim, Format: format, Str: g.bytes(n)}
	case 10:
		return Value{Type: TypeArray, Elems: g.elems(depth+1, false)}
	case 11:
		return Value{Type: TypeMap, Elems: g.elems(depth+1, true)}
	case 12:
		return Value{Type: TypeSet, Elems: g.elems(depth+1, false)}
	case 13:
		return Value{Type: TypePush, Elems: g.elems(depth+1, false)}
	default:
		return Value{Type: TypeArray, Elems: []Value{}}
	}
}

// elems returns up to 15 values (pairs when paired) for an aggregate or attributes.
func (g *gen) elems(depth int, paired bool) []Value {
	n := int(g.byte() % 16)
	if paired {
		n *= 2
	}
	vs := []Value{}
	for i := 0; i < n && (g.nodes < genMaxNodes || paired && i%2 == 1); i++ {
		vs = append(vs, g.value(depth))
	}
	return vs
}
