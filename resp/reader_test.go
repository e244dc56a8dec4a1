package resp

import (
	"bytes"
	"errors"
	"io"
	"math"
	"strings"
	"testing"
)

var validCases = []struct {
	name      string
	in        string
	want      Value
	canonical bool // AppendValue(want) gives in back, byte for byte
}{
	// RESP2
	{"simple", "+OK\r\n", simple("OK"), true},
	{"simple empty", "+\r\n", simple(""), true},
	{"error", "-ERR unknown command 'foo'\r\n", errv("ERR unknown command 'foo'"), true},
	{"error empty", "-\r\n", errv(""), true},
	{"integer", ":42\r\n", integer(42), true},
	{"integer zero", ":0\r\n", integer(0), true},
	{"integer negative", ":-7\r\n", integer(-7), true},
	{"integer plus", ":+7\r\n", integer(7), false},
	{"integer max", ":9223372036854775807\r\n", integer(math.MaxInt64), true},
	{"integer min", ":-9223372036854775808\r\n", integer(math.MinInt64), true},
	{"bulk", "$3\r\nfoo\r\n", bulk("foo"), true},
	{"bulk empty", "$0\r\n\r\n", bulk(""), true},
	{"bulk binary", "$6\r\na\r\nb\x00\xff\r\n", bulk("a\r\nb\x00\xff"), true},
	{"bulk leading zeros", "$03\r\nfoo\r\n", bulk("foo"), false},
	{"null bulk", "$-1\r\n", null(), false},
	{"null array", "*-1\r\n", null(), false},
	{"array empty", "*0\r\n", agg(TypeArray), true},
	{"array", "*2\r\n$3\r\nGET\r\n$1\r\nk\r\n", agg(TypeArray, bulk("GET"), bulk("k")), true},
	{"array mixed", "*4\r\n:1\r\n$-1\r\n+x\r\n*-1\r\n", agg(TypeArray, integer(1), null(), simple("x"), null()), false},
	{"array nested", "*2\r\n*1\r\n:1\r\n*0\r\n", agg(TypeArray, agg(TypeArray, integer(1)), agg(TypeArray)), true},
	{"exec with errors", "*3\r\n+OK\r\n-WRONGTYPE Operation against a key\r\n:2\r\n",
		agg(TypeArray, simple("OK"), errv("WRONGTYPE Operation against a key"), integer(2)), true},
	// RESP3
	{"null", "_\r\n", null(), true},
	{"true", "#t\r\n", boolean(true), true},
	{"false", "#f\r\n", boolean(false), true},
	{"double", ",1.5\r\n", double(1.5), true},
	{"double exp", ",1e+300\r\n", double(1e300), true},
	{"double int", ",10\r\n", double(10), true},
	{"double neg", ",-0.25\r\n", double(-0.25), true},
	{"double inf", ",inf\r\n", double(math.Inf(1)), true},
	{"double -inf", ",-inf\r\n", double(math.Inf(-1)), true},
	{"double nan", ",nan\r\n", double(math.NaN()), true},
	{"double long form", ",3.14000000000000012434\r\n", double(3.14), false},
	{"big number", "(3492890328409238509324850943850943825024385\r\n",
		Value{Type: TypeBigNumber, Str: []byte("3492890328409238509324850943850943825024385")}, true},
	{"big number negative", "(-12\r\n", Value{Type: TypeBigNumber, Str: []byte("-12")}, true},
	{"bulk error", "!21\r\nSYNTAX invalid syntax\r\n",
		Value{Type: TypeBulkError, Str: []byte("SYNTAX invalid syntax"), Err: ParseError("SYNTAX invalid syntax")}, true},
	{"bulk error with CRLF", "!6\r\nA\r\nB\r\n\r\n", Value{Type: TypeBulkError, Str: []byte("A\r\nB\r\n")}, true},
	{"verbatim", "=15\r\ntxt:Some string\r\n", Value{Type: TypeVerbatim, Format: "txt", Str: []byte("Some string")}, true},
	{"verbatim empty", "=4\r\nmkd:\r\n", Value{Type: TypeVerbatim, Format: "mkd", Str: []byte("")}, true},
	{"verbatim other format", "=6\r\nabc:xy\r\n", Value{Type: TypeVerbatim, Format: "abc", Str: []byte("xy")}, true},
	{"map", "%2\r\n+first\r\n:1\r\n+second\r\n:2\r\n",
		agg(TypeMap, simple("first"), integer(1), simple("second"), integer(2)), true},
	{"map empty", "%0\r\n", agg(TypeMap), true},
	{"set", "~3\r\n+a\r\n+b\r\n:1\r\n", agg(TypeSet, simple("a"), simple("b"), integer(1)), true},
	{"push", ">3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$2\r\nhi\r\n",
		agg(TypePush, bulk("message"), bulk("ch"), bulk("hi")), true},
	{"nested map set", "%1\r\n$1\r\nk\r\n~2\r\n%1\r\n+a\r\n_\r\n*1\r\n#t\r\n",
		agg(TypeMap, bulk("k"), agg(TypeSet, agg(TypeMap, simple("a"), null()), agg(TypeArray, boolean(true)))), true},
	{"attribute", "|1\r\n+key-popularity\r\n%2\r\n$1\r\na\r\n,0.1923\r\n$1\r\nb\r\n,0.0012\r\n*2\r\n:2039123\r\n:9543892\r\n",
		withAttrs(agg(TypeArray, integer(2039123), integer(9543892)),
			simple("key-popularity"), agg(TypeMap, bulk("a"), double(0.1923), bulk("b"), double(0.0012))), true},
	{"attribute on element", "*2\r\n:1\r\n|1\r\n+ttl\r\n:3600\r\n:2\r\n",
		agg(TypeArray, integer(1), withAttrs(integer(2), simple("ttl"), integer(3600))), true},
	{"attributes merged", "|1\r\n+a\r\n:1\r\n|1\r\n+b\r\n:2\r\n+OK\r\n",
		withAttrs(simple("OK"), simple("a"), integer(1), simple("b"), integer(2)), false},
	{"attribute empty", "|0\r\n+OK\r\n", simple("OK"), false},
	{"attribute on push", "|1\r\n+x\r\n+y\r\n>1\r\n+p\r\n", withAttrs(agg(TypePush, simple("p")), simple("x"), simple("y")), true},
	{"attribute with attribute", "|1\r\n|1\r\n+i\r\n+j\r\n+k\r\n+v\r\n:1\r\n",
		withAttrs(integer(1), withAttrs(simple("k"), simple("i"), simple("j")), simple("v")), true},
}

func TestReadValid(t *testing.T) {
	for _, tc := range validCases {
		t.Run(tc.name, func(t *testing.T) {
			for how, mk := range readers([]byte(tc.in)) {
				r := mk()
				got, err := r.ReadValue()
				if err != nil {
					t.Fatalf("%s: %v", how, err)
				}
				mustEqual(t, got, tc.want)
				if _, err := r.ReadValue(); err != io.EOF {
					t.Fatalf("%s: after the value: err %v, want io.EOF", how, err)
				}
			}
			// Round trip through the encoder.
			enc := AppendValue(nil, tc.want)
			if tc.canonical && string(enc) != tc.in {
				t.Errorf("AppendValue = %q, want %q", enc, tc.in)
			}
			back, err := NewReader(bytes.NewReader(enc), Limits{}).ReadValue()
			if err != nil {
				t.Fatalf("re-reading %q: %v", enc, err)
			}
			mustEqual(t, back, tc.want)
			// The RESP2 downgrade always decodes.
			enc2 := AppendValueRESP2(nil, tc.want)
			if _, err := NewReader(bytes.NewReader(enc2), Limits{}).ReadValue(); err != nil {
				t.Fatalf("re-reading RESP2 %q: %v", enc2, err)
			}
		})
	}
}

func TestReadDetails(t *testing.T) {
	read := func(in string) Value {
		t.Helper()
		v, err := NewReader(strings.NewReader(in), Limits{}).ReadValue()
		if err != nil {
			t.Fatalf("%q: %v", in, err)
		}
		return v
	}
	if v := read("-MOVED 3999 127.0.0.1:6381\r\n"); v.Err == nil || !v.Err.IsMoved() || v.Err.Slot != 3999 ||
		v.Err.Addr != "127.0.0.1:6381" {
		t.Errorf("MOVED reply: %+v", v.Err)
	}
	if v := read("!10\r\nLOADING xx\r\n"); v.Err == nil || v.Err.Code != "LOADING" || !v.Err.IsRetryable() {
		t.Errorf("bulk error: %+v", v.Err)
	}
	v := read("*2\r\n+OK\r\n-ERR x\r\n")
	if v.Elems[0].Err != nil || v.Elems[1].Err == nil || v.Elems[1].Err.Code != "ERR" {
		t.Errorf("errors in aggregates: %v", v)
	}
	if v := read("+OK\r\n"); v.Attrs != nil || v.Elems != nil || v.Err != nil {
		t.Errorf("unused fields set: %#v", v)
	}
	if v := read("|0\r\n:1\r\n"); v.Attrs != nil {
		t.Errorf("empty attribute: Attrs = %#v, want nil", v.Attrs)
	}
	if v := read("*0\r\n"); v.Elems == nil {
		t.Errorf("empty array has nil Elems")
	}
	if v := read("$0\r\n\r\n"); v.Str == nil {
		t.Errorf("empty bulk has nil Str")
	}
	if v := read("#t\r\n"); v.Int != 1 {
		t.Errorf("true: Int = %d", v.Int)
	}
	if v := read(",nan\r\n"); !math.IsNaN(v.Float) {
		t.Errorf("nan: %v", v.Float)
	}
	if v := read(":+5\r\n"); v.Int != 5 {
		t.Errorf(":+5 = %d", v.Int)
	}
}

// The Str of a value must not alias the Reader's buffer: reading more must not change it.
func TestReadNoAliasing(t *testing.T) {
	r := NewReader(strings.NewReader("+first\r\n$6\r\nsecond\r\n(123\r\n+XXXXXXXXXXXXXXXXXXXX\r\n$6\r\nYYYYYY\r\n(999\r\n"), Limits{})
	var vs []Value
	for range 3 {
		v, err := r.ReadValue()
		if err != nil {
			t.Fatal(err)
		}
		vs = append(vs, v)
	}
	for range 3 {
		if _, err := r.ReadValue(); err != nil {
			t.Fatal(err)
		}
	}
	if string(vs[0].Str) != "first" || string(vs[1].Str) != "second" || string(vs[2].Str) != "123" {
		t.Fatalf("values changed by later reads: %v", vs)
	}
}

func TestReadStream(t *testing.T) {
	in := "+OK\r\n>2\r\n+invalidate\r\n*1\r\n$1\r\nk\r\n:1\r\n_\r\n$-1\r\n"
	want := []Value{simple("OK"), agg(TypePush, simple("invalidate"), agg(TypeArray, bulk("k"))), integer(1), null(), null()}
	for how, mk := range readers([]byte(in)) {
		r := mk()
		for i, w := range want {
			v, err := r.ReadValue()
			if err != nil {
				t.Fatalf("%s: value %d: %v", how, i, err)
			}
			mustEqual(t, v, w)
		}
		for range 2 { // io.EOF is repeatable
			if _, err := r.ReadValue(); err != io.EOF {
				t.Fatalf("%s: at the end: %v, want io.EOF", how, err)
			}
		}
	}
}

var invalidCases = []struct {
	name string
	in   string
	kind string // as errKind
	msg  string // substring of the message, if not ""
}{
	// absurd lengths
	{"bulk huge", "$2147483647\r\n", "too-large", "resp: bulk length 2147483647 exceeds limit 536870912"},
	{"array huge", "*2147483647\r\n", "too-large", "resp: array length 2147483647 exceeds limit 16777216"},
	{"map huge", "%2147483647\r\n", "too-large", "map length"},
	{"set huge", "~2147483647\r\n", "too-large", "set length"},
	{"push huge", ">2147483647\r\n", "too-large", "push length"},
	{"attribute huge", "|2147483647\r\n", "too-large", "attribute length"},
	{"bulk error huge", "!2147483647\r\n", "too-large", "bulk error length"},
	{"verbatim huge", "=2147483647\r\n", "too-large", "verbatim length"},
	{"bulk beyond int64", "$99999999999999999999999\r\n", "too-large", "exceeds limit"},
	{"array beyond int64", "*99999999999999999999999\r\n", "too-large", "exceeds limit"},
	{"huge inside array", "*2\r\n:1\r\n$2147483647\r\n", "too-large", ""},
	// negative and malformed lengths
	{"bulk -5", "$-5\r\n", "protocol", `resp: invalid length "-5"`},
	{"array -7", "*-7\r\n", "protocol", `resp: invalid length "-7"`},
	{"bulk -0", "$-0\r\n", "protocol", "invalid length"},
	{"bulk -2", "$-2\r\n", "protocol", "invalid length"},
	{"bulk -1x", "$-1x\r\n", "protocol", "invalid length"},
	{"bulk -", "$-\r\n", "protocol", "invalid length"},
	{"map -1", "%-1\r\n", "protocol", "invalid length"},
	{"set -1", "~-1\r\n", "protocol", "invalid length"},
	{"push -1", ">-1\r\n", "protocol", "invalid length"},
	{"attribute -1", "|-1\r\n", "protocol", "invalid length"},
	{"bulk error -1", "!-1\r\n", "protocol", "invalid length"},
	{"verbatim -1", "=-1\r\n", "protocol", "invalid length"},
	{"bulk plus", "$+3\r\nfoo\r\n", "protocol", "invalid length"},
	{"array plus", "*+1\r\n:1\r\n", "protocol", "invalid length"},
	{"bulk letters", "$abc\r\n", "protocol", "invalid length"},
	{"bulk empty length", "$\r\n", "protocol", "invalid length"},
	{"bulk space", "$3 \r\nfoo\r\n", "protocol", "invalid length"},
	{"array hex", "*0x1\r\n", "protocol", "invalid length"},
	// framing
	{"LF without CR", "+OK\n", "protocol", "not terminated by CRLF"},
	{"bare LF", "\n", "protocol", "not terminated by CRLF"},
	{"lone CR", "+OK\rX\r\n", "protocol", "CR without LF"},
	{"double CR", "+OK\r\r\n", "protocol", "CR without LF"},
	{"lone CR in length", "$3\r4\r\n", "protocol", ""},
	{"empty line", "\r\n", "protocol", "empty line"},
	{"bulk not followed by CRLF", "$3\r\nfooXY", "protocol", "not followed by CRLF"},
	{"bulk followed by CR only", "$3\r\nfoo\rX", "protocol", "not followed by CRLF"},
	{"bulk followed by LF CR", "$3\r\nfoo\n\r", "protocol", "not followed by CRLF"},
	{"bulk too long", "$2\r\nfoo\r\n", "protocol", "not followed by CRLF"},
	{"bulk too short", "$4\r\nfoo\r\n+", "protocol", "not followed by CRLF"},
	// scalars
	{"boolean x", "#x\r\n", "protocol", "invalid boolean"},
	{"boolean empty", "#\r\n", "protocol", "invalid boolean"},
	{"boolean tt", "#tt\r\n", "protocol", "invalid boolean"},
	{"boolean T", "#T\r\n", "protocol", "invalid boolean"},
	{"double letters", ",abc\r\n", "protocol", "invalid double"},
	{"double empty", ",\r\n", "protocol", "invalid double"},
	{"double two dots", ",1.5.5\r\n", "protocol", "invalid double"},
	{"double overflow", ",1e400\r\n", "protocol", "invalid double"},
	{"integer letters", ":abc\r\n", "protocol", "invalid integer"},
	{"integer empty", ":\r\n", "protocol", "invalid integer"},
	{"integer sign only", ":-\r\n", "protocol", "invalid integer"},
	{"integer double sign", ":--1\r\n", "protocol", "invalid integer"},
	{"integer float", ":1.5\r\n", "protocol", "invalid integer"},
	{"integer overflow", ":9223372036854775808\r\n", "protocol", "overflows int64"},
	{"integer underflow", ":-9223372036854775809\r\n", "protocol", "overflows int64"},
	{"integer very long", ":" + strings.Repeat("9", 100) + "\r\n", "protocol", "overflows int64"},
	{"integer overflow then letter", ":99999999999999999999x\r\n", "protocol", "invalid integer"},
	{"null with data", "_x\r\n", "protocol", "invalid null"},
	{"big number letters", "(12a\r\n", "protocol", "invalid big number"},
	{"big number empty", "(\r\n", "protocol", "invalid big number"},
	{"big number sign only", "(-\r\n", "protocol", "invalid big number"},
	{"big number float", "(1.5\r\n", "protocol", "invalid big number"},
	{"verbatim short", "=3\r\ntxt\r\n", "protocol", "shorter than its format prefix"},
	{"verbatim zero", "=0\r\n\r\n", "protocol", "shorter than its format prefix"},
	{"verbatim no colon", "=5\r\ntxtxx\r\n", "protocol", "no ':' after its format"},
	// types
	{"unknown type", "x\r\n", "protocol", "resp: unexpected type byte 'x' (0x78)"},
	{"inline command", "PING\r\n", "protocol", "inline commands are not supported"},
	{"NUL type", "\x00\r\n", "protocol", "unexpected type byte 0x00"},
	{"high type", "\xff\r\n", "protocol", "unexpected type byte 0xff"},
	{"unknown type in array", "*1\r\n@\r\n", "protocol", "unexpected type byte '@'"},
	{"streamed bulk", "$?\r\n;4\r\nabcd\r\n;0\r\n", "protocol", "not supported"},
	{"streamed array", "*?\r\n:1\r\n.\r\n", "protocol", "not supported"},
	{"streamed map", "%?\r\n", "protocol", "not supported"},
	{"stream chunk", ";4\r\nabcd\r\n", "protocol", "not supported"},
	{"stream end", ".\r\n", "protocol", "not supported"},
	// depth
	{"deep arrays", strings.Repeat("*1\r\n", 100000), "too-deep", "resp: nesting deeper than 128"},
	{"deep maps", strings.Repeat("%1\r\n+k\r\n", 200), "too-deep", ""},
	{"deep attributes", strings.Repeat("|1\r\n", 200), "too-deep", ""},
	{"deep mixed", strings.Repeat("*1\r\n~1\r\n>1\r\n", 50), "too-deep", ""},
	// truncated streams
	{"eof in line", "+OK", "unexpected-eof", ""},
	{"eof after CR", "+OK\r", "unexpected-eof", ""},
	{"eof in bulk", "$5\r\nab", "unexpected-eof", ""},
	{"eof before bulk CRLF", "$2\r\nab", "unexpected-eof", ""},
	{"eof between bulk CR and LF", "$2\r\nab\r", "unexpected-eof", ""},
	{"eof in array", "*3\r\n:1\r\n", "unexpected-eof", ""},
	{"eof in map value", "%1\r\n+k\r\n", "unexpected-eof", ""},
	{"eof after attribute", "|1\r\n+k\r\n+v\r\n", "unexpected-eof", ""},
	{"eof after empty attribute", "|0\r\n", "unexpected-eof", ""},
	{"eof in huge bulk", "$400000000\r\nabc", "unexpected-eof", ""},
}

func TestReadInvalid(t *testing.T) {
	for _, tc := range invalidCases {
		t.Run(tc.name, func(t *testing.T) {
			var first error
			for how, mk := range readers([]byte(tc.in)) {
				_, err := mk().ReadValue()
				if got := errKind(err); got != tc.kind {
					t.Fatalf("%s: error %v (%s), want %s", how, err, got, tc.kind)
				}
				if tc.msg != "" && !strings.Contains(err.Error(), tc.msg) {
					t.Errorf("%s: error %q does not contain %q", how, err, tc.msg)
				}
				if strings.HasPrefix(tc.kind, "too-") || tc.kind == "protocol" {
					var pe *ProtocolError
					if !errors.As(err, &pe) || !errors.Is(err, ErrProtocol) {
						t.Errorf("%s: %v is not a *ProtocolError matching ErrProtocol", how, err)
					}
				}
				if first == nil {
					first = err
				} else if err.Error() != first.Error() {
					t.Errorf("%s: error %q differs from another reader's %q", how, err, first)
				}
			}
		})
	}
}

func TestReadEmpty(t *testing.T) {
	for how, mk := range readers(nil) {
		if _, err := mk().ReadValue(); err != io.EOF {
			t.Errorf("%s: %v, want io.EOF", how, err)
		}
	}
}

// Errors of the underlying reader other than io.EOF pass through unchanged.
func TestReadIOError(t *testing.T) {
	boom := errors.New("boom")
	for _, in := range []string{"", "+OK", "$5\r\nab", "*2\r\n:1\r\n"} {
		r := NewReader(io.MultiReader(strings.NewReader(in), errReader{boom}), Limits{})
		if _, err := r.ReadValue(); err != boom {
			t.Errorf("%q: %v, want boom", in, err)
		}
	}
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

func TestReadLimits(t *testing.T) {
	cases := []struct {
		lim  Limits
		ok   string
		fail string
	}{
		{Limits{MaxBulkLen: 3}, "$3\r\nabc\r\n", "$4\r\nabcd\r\n"},
		{Limits{MaxBulkLen: 3}, "!3\r\nERR\r\n", "!4\r\nERRS\r\n"},
		{Limits{MaxBulkLen: 7}, "=7\r\ntxt:abc\r\n", "=8\r\ntxt:abcd\r\n"},
		{Limits{MaxAggregateLen: 2}, "*2\r\n:1\r\n:2\r\n", "*3\r\n:1\r\n:2\r\n:3\r\n"},
		{Limits{MaxAggregateLen: 2}, "%2\r\n:1\r\n:2\r\n:3\r\n:4\r\n", "%3\r\n"},
		{Limits{MaxAggregateLen: 2}, "~2\r\n:1\r\n:2\r\n", "~3\r\n"},
		{Limits{MaxAggregateLen: 1}, "|1\r\n:1\r\n:2\r\n_\r\n", "|2\r\n"},
		{Limits{MaxDepth: 2}, "*1\r\n*1\r\n:1\r\n", "*1\r\n*1\r\n*1\r\n:1\r\n"},
		{Limits{MaxDepth: 2}, "*1\r\n|1\r\n:1\r\n:1\r\n:1\r\n", "*1\r\n*1\r\n|1\r\n:1\r\n:1\r\n:1\r\n"},
		{Limits{MaxDepth: 1}, "|1\r\n+a\r\n+b\r\n*1\r\n:1\r\n", "*1\r\n*1\r\n:1\r\n"},
		{Limits{MaxLineLen: 5}, "+12345\r\n", "+123456\r\n"},
		{Limits{MaxLineLen: 5}, ":12345\r\n", ":123456\r\n"},
		{Limits{MaxLineLen: 5}, "-12345\r\n", "-123456\r\n"},
	}
	for _, tc := range cases {
		if _, err := NewReader(strings.NewReader(tc.ok), tc.lim).ReadValue(); err != nil {
			t.Errorf("%+v %q: %v", tc.lim, tc.ok, err)
		}
		_, err := NewReader(strings.NewReader(tc.fail), tc.lim).ReadValue()
		if !errors.Is(err, ErrProtocol) || !errors.Is(err, ErrTooLarge) && !errors.Is(err, ErrTooDeep) {
			t.Errorf("%+v %q: %v, want a limit error", tc.lim, tc.fail, err)
		}
	}
}

// A line longer than the bufio buffer is read whole, up to MaxLineLen, and rejected beyond
// it without reading further.
func TestReadLongLine(t *testing.T) {
	long := strings.Repeat("a", 100<<10)
	v, err := NewReader(strings.NewReader("+"+long+"\r\n"), Limits{MaxLineLen: 200 << 10}).ReadValue()
	if err != nil || string(v.Str) != long {
		t.Fatalf("long line: %v", err)
	}
	// Default limit 64 KiB: an endless line is cut off, not buffered forever.
	endless := io.MultiReader(strings.NewReader("+"), &loopReader{data: []byte("aaaaaaaa")})
	_, err = NewReader(endless, Limits{}).ReadValue()
	if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "line longer than 65536 bytes") {
		t.Fatalf("endless line: %v", err)
	}
	// Exactly at the limit is fine, whatever the buffer size.
	at := "+" + strings.Repeat("b", DefaultMaxLineLen) + "\r\n"
	for _, size := range []int{16, 4096, 1 << 20} {
		v, err := NewReaderSize(strings.NewReader(at+at), size, Limits{}).ReadValue()
		if err != nil || len(v.Str) != DefaultMaxLineLen {
			t.Fatalf("size %d: at the limit: %v", size, err)
		}
		_, err = NewReaderSize(strings.NewReader("+b"+at), size, Limits{}).ReadValue()
		if !errors.Is(err, ErrTooLarge) {
			t.Fatalf("size %d: over the limit: %v", size, err)
		}
	}
}

// A large bulk, declared and delivered, arrives intact across chunk boundaries.
func TestReadLargeBulk(t *testing.T) {
	for _, n := range []int{bulkChunk - 1, bulkChunk, bulkChunk + 1, 5*bulkChunk + 17} {
		payload := bytes.Repeat([]byte("0123456789abcdef"), n/16+1)[:n]
		in := AppendBulk(nil, payload)
		for how, mk := range readers(in) {
			v, err := mk().ReadValue()
			if err != nil || !bytes.Equal(v.Str, payload) {
				t.Fatalf("%s: n=%d: %v", how, n, err)
			}
		}
	}
}

func TestReaderReset(t *testing.T) {
	r := NewReader(strings.NewReader("*2\r\n:1\r\n"), Limits{MaxDepth: 3})
	if _, err := r.ReadValue(); err != io.ErrUnexpectedEOF {
		t.Fatal(err)
	}
	r.Reset(strings.NewReader("+OK\r\n"))
	v, err := r.ReadValue()
	if err != nil {
		t.Fatal(err)
	}
	mustEqual(t, v, simple("OK"))
	if r.Limits().MaxDepth != 3 || r.Limits().MaxBulkLen != DefaultMaxBulkLen {
		t.Errorf("limits after reset: %+v", r.Limits())
	}
}

func TestReaderBuffered(t *testing.T) {
	r := NewReader(strings.NewReader("+OK\r\n:1\r\n"), Limits{})
	if _, err := r.ReadValue(); err != nil {
		t.Fatal(err)
	}
	if r.Buffered() != 4 {
		t.Errorf("Buffered = %d, want 4", r.Buffered())
	}
}

// A *bufio.Reader given to NewReader is read through, not adopted as the Reader's buffer.
func TestReaderOwnsBuffer(t *testing.T) {
	inner := NewReader(strings.NewReader("+a\r\n+b\r\n"), Limits{})
	outer := NewReader(inner.br, Limits{})
	if outer.br == inner.br {
		t.Fatal("NewReader adopted the caller's *bufio.Reader")
	}
	v, err := outer.ReadValue()
	if err != nil {
		t.Fatal(err)
	}
	mustEqual(t, v, simple("a"))
}

func TestDefaultLimits(t *testing.T) {
	d := DefaultLimits()
	if d.MaxBulkLen != 512<<20 || d.MaxAggregateLen != 1<<24 || d.MaxDepth != 128 || d.MaxLineLen != 64<<10 {
		t.Fatalf("DefaultLimits = %+v", d)
	}
	if got := (Limits{MaxDepth: -1}).withDefaults(); got != d {
		t.Fatalf("negative limits: %+v", got)
	}
	if got := NewReader(nil, Limits{MaxDepth: 5}).Limits(); got.MaxDepth != 5 || got.MaxBulkLen != d.MaxBulkLen {
		t.Fatalf("partial limits: %+v", got)
	}
}

// TestSharedSimpleStrings checks that OK, QUEUED and PONG decode to their text without
// a copy, and that other simple strings are still fresh copies.
func TestSharedSimpleStrings(t *testing.T) {
	r := NewReader(strings.NewReader("+OK\r\n+OK\r\n+QUEUED\r\n+PONG\r\n+OKAY\r\n"), Limits{})
	var vs []Value
	for range 5 {
		v, err := r.ReadValue()
		if err != nil {
			t.Fatal(err)
		}
		vs = append(vs, v)
	}
	for i, want := range []string{"OK", "OK", "QUEUED", "PONG", "OKAY"} {
		if vs[i].Type != TypeSimpleString || string(vs[i].Str) != want || cap(vs[i].Str) != len(want) {
			t.Errorf("value %d: %v %q cap %d, want simple string %q with cap = len", i, vs[i].Type, vs[i].Str, cap(vs[i].Str), want)
		}
	}
	if &vs[0].Str[0] != &vs[1].Str[0] {
		t.Error("two OK replies do not share their text")
	}
}
