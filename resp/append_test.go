package resp

import (
	"bytes"
	"math"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestAppendCommand(t *testing.T) {
	got, err := AppendCommand([]byte("prefix"),
		"SET", []byte("k"), int(-1), int8(-8), int16(16), int32(32), int64(math.MinInt64),
		uint(1), uint8(255), uint16(16), uint32(32), uint64(math.MaxUint64),
		float32(1.5), float64(-0.25), 1e21, math.Inf(1), true, false, "")
	if err != nil {
		t.Fatal(err)
	}
	want := "prefix*19\r\n$3\r\nSET\r\n$1\r\nk\r\n$2\r\n-1\r\n$2\r\n-8\r\n$2\r\n16\r\n$2\r\n32\r\n" +
		"$20\r\n-9223372036854775808\r\n$1\r\n1\r\n$3\r\n255\r\n$2\r\n16\r\n$2\r\n32\r\n" +
		"$20\r\n18446744073709551615\r\n$3\r\n1.5\r\n$5\r\n-0.25\r\n$22\r\n1000000000000000000000\r\n" +
		"$4\r\n+Inf\r\n$1\r\n1\r\n$1\r\n0\r\n$0\r\n\r\n"
	if string(got) != want {
		t.Fatalf("got  %q\nwant %q", got, want)
	}
	// What a fake server reads back.
	v, err := NewReader(bytes.NewReader(got[len("prefix"):]), Limits{}).ReadValue()
	if err != nil || len(v.Elems) != 19 || string(v.Elems[12].Str) != "1.5" {
		t.Fatalf("read back: %v %v", v, err)
	}
}

func TestAppendCommandUnsupported(t *testing.T) {
	for _, tc := range []struct {
		arg  any
		want string
	}{
		{time.Month(1), "resp: argument 1 has unsupported type time.Month"},
		{nil, "resp: argument 1 has unsupported type nil"},
		{[]string{"a"}, "resp: argument 1 has unsupported type []string"},
		{struct{}{}, "resp: argument 1 has unsupported type struct {}"},
		{new(string), "resp: argument 1 has unsupported type *string"},
	} {
		dst := []byte("keep")
		got, err := AppendCommand(dst, "GET", tc.arg)
		if err == nil || err.Error() != tc.want {
			t.Errorf("%T: err %v, want %q", tc.arg, err, tc.want)
		}
		if string(got) != "keep" {
			t.Errorf("%T: dst changed to %q", tc.arg, got)
		}
	}
}

func TestAppendPrimitives(t *testing.T) {
	cases := []struct {
		got  []byte
		want string
	}{
		{AppendCommandStrings(nil, "GET", "key"), "*2\r\n$3\r\nGET\r\n$3\r\nkey\r\n"},
		{AppendCommandStrings(nil), "*0\r\n"},
		{AppendArrayHeader(nil, 3), "*3\r\n"},
		{AppendBulk(nil, []byte("a\r\nb")), "$4\r\na\r\nb\r\n"},
		{AppendBulk(nil, nil), "$0\r\n\r\n"},
		{AppendBulkString(nil, "foo"), "$3\r\nfoo\r\n"},
		{AppendBulkInt(nil, -42), "$3\r\n-42\r\n"},
		{AppendSimpleString(nil, "OK"), "+OK\r\n"},
		{AppendSimpleString(nil, "a\r\nb\nc\rd"), "+a  b c d\r\n"},
		{AppendError(nil, "ERR bad\r\n+OK"), "-ERR bad  +OK\r\n"},
		{AppendInt(nil, -7), ":-7\r\n"},
		{AppendInt(nil, math.MaxInt64), ":9223372036854775807\r\n"},
		{AppendNull(nil, 2), "$-1\r\n"},
		{AppendNull(nil, 3), "_\r\n"},
		{AppendNull(nil, 0), "$-1\r\n"},
	}
	for i, tc := range cases {
		if string(tc.got) != tc.want {
			t.Errorf("%d: got %q, want %q", i, tc.got, tc.want)
		}
	}
}

func TestAppendValueHandBuilt(t *testing.T) {
	cases := []struct {
		v    Value
		want string
	}{
		{Value{}, "_\r\n"},
		{Value{Type: 'x'}, "_\r\n"},
		{simple("a\r\nb"), "+a  b\r\n"},
		{Value{Type: TypeError, Err: ParseError("ERR from Err")}, "-ERR from Err\r\n"},
		{Value{Type: TypeBulkError, Err: ParseError("ERR x")}, "!5\r\nERR x\r\n"},
		{Value{Type: TypeVerbatim, Str: []byte("hi")}, "=6\r\ntxt:hi\r\n"},
		{Value{Type: TypeVerbatim, Format: "m", Str: []byte("hi")}, "=6\r\nm  :hi\r\n"},
		{Value{Type: TypeVerbatim, Format: "markdown", Str: []byte("hi")}, "=6\r\nmar:hi\r\n"},
		{Value{Type: TypeBoolean, Int: 7}, "#t\r\n"},
		{double(math.Copysign(0, -1)), ",-0\r\n"},
		{double(1e21), ",1e+21\r\n"},
		{agg(TypeMap, simple("k")), "%1\r\n+k\r\n_\r\n"},
		{withAttrs(integer(1), simple("k")), "|1\r\n+k\r\n_\r\n:1\r\n"},
		{agg(TypeAttribute, simple("k"), simple("v")), "|1\r\n+k\r\n+v\r\n"},
		{Value{Type: TypeArray}, "*0\r\n"},
	}
	for i, tc := range cases {
		if got := AppendValue(nil, tc.v); string(got) != tc.want {
			t.Errorf("%d: AppendValue(%v) = %q, want %q", i, tc.v, got, tc.want)
		}
	}
	// A bare attribute frame attaches to the next value.
	in := AppendValue(AppendValue(nil, agg(TypeAttribute, simple("k"), simple("v"))), integer(1))
	v, err := NewReader(bytes.NewReader(in), Limits{}).ReadValue()
	if err != nil {
		t.Fatal(err)
	}
	mustEqual(t, v, withAttrs(integer(1), simple("k"), simple("v")))
}

func TestAppendValueRESP2(t *testing.T) {
	cases := []struct {
		v    Value
		want string
	}{
		{simple("OK"), "+OK\r\n"},
		{errv("ERR x"), "-ERR x\r\n"},
		{Value{Type: TypeBulkError, Str: []byte("ERR a\r\nb")}, "-ERR a  b\r\n"},
		{integer(3), ":3\r\n"},
		{bulk("v"), "$1\r\nv\r\n"},
		{null(), "$-1\r\n"},
		{Value{}, "$-1\r\n"},
		{boolean(true), ":1\r\n"},
		{boolean(false), ":0\r\n"},
		{double(1.5), "$3\r\n1.5\r\n"},
		{double(math.Inf(-1)), "$4\r\n-inf\r\n"},
		{double(math.NaN()), "$3\r\nnan\r\n"},
		{Value{Type: TypeBigNumber, Str: []byte("-123")}, "$4\r\n-123\r\n"},
		{Value{Type: TypeVerbatim, Format: "txt", Str: []byte("hello")}, "$5\r\nhello\r\n"},
		{agg(TypeMap, simple("a"), integer(1), simple("b"), null()), "*4\r\n+a\r\n:1\r\n+b\r\n$-1\r\n"},
		{agg(TypeMap, simple("a")), "*2\r\n+a\r\n$-1\r\n"},
		{agg(TypeSet, integer(1)), "*1\r\n:1\r\n"},
		{agg(TypePush, bulk("message"), bulk("c"), bulk("m")), "*3\r\n$7\r\nmessage\r\n$1\r\nc\r\n$1\r\nm\r\n"},
		{withAttrs(integer(1), simple("k"), simple("v")), ":1\r\n"},
		{agg(TypeAttribute, simple("k"), simple("v")), ""},
		{agg(TypeArray, agg(TypeMap, boolean(true), double(2))), "*1\r\n*2\r\n:1\r\n$1\r\n2\r\n"},
	}
	for i, tc := range cases {
		if got := AppendValueRESP2(nil, tc.v); string(got) != tc.want {
			t.Errorf("%d: AppendValueRESP2(%v) = %q, want %q", i, tc.v, got, tc.want)
		}
	}
}

// Encoders append to dst without disturbing what is there.
func TestAppendKeepsPrefix(t *testing.T) {
	dst := []byte("xyz")
	dst = AppendValue(dst, agg(TypeArray, simple("a\nb")))
	if !strings.HasPrefix(string(dst), "xyz*1\r\n+a b\r\n") {
		t.Fatalf("%q", dst)
	}
}

// TestAppendHeaderNumbers: the header's number is the decimal of n for every n, the
// fast paths (up to four digits) included.
func TestAppendHeaderNumbers(t *testing.T) {
	for _, n := range []int64{-1, 0, 1, 9, 10, 11, 42, 99, 100, 101, 110, 999, 1000, 1024, 1009, 9999, 10000, 10001, 1 << 40, -100, -1000} {
		got := string(appendHeader(nil, '$', n))
		want := "$" + strconv.FormatInt(n, 10) + "\r\n"
		if got != want {
			t.Errorf("appendHeader(%d) = %q, want %q", n, got, want)
		}
	}
}
