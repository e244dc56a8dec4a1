package resp

import (
	"errors"
	"math"
	"reflect"
	"testing"
	"time"
	"unsafe"
)

type namedInt int

// argSupported holds one or more values of every supported argument type: adding a type
// to the codec means adding it here (TestArgTypesCovered checks the list is complete).
var argSupported = []any{
	"", "key", []byte{}, []byte("bytes"),
	int(-1), int(math.MaxInt), int8(-8), int16(16), int32(-32), int64(math.MinInt64),
	uint(1), uint8(255), uint16(16), uint32(32), uint64(math.MaxUint64),
	float32(1.5), float64(-0.25), 1e21, math.Inf(1), math.Inf(-1), 5e-324, math.MaxFloat64,
	true, false,
	time.Duration(0), -time.Second, time.Duration(math.MaxInt64),
	time.Date(2026, 12, 6, 15, 4, 5, 123456789, time.UTC), time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.FixedZone("", -(13*3600+59*60))),
	time.Time{},
}

// argUnsupported holds values the codec must refuse, some close to supported ones.
var argUnsupported = []any{
	nil, namedInt(3), uintptr(1), complex64(1), complex(1, 2), []string{"a"},
	struct{}{}, new(string), new(int), [3]byte{1, 2, 3}, map[string]int{}, errors.New("x"),
	[]any{"a"}, unsafe.Pointer(nil),
}

// TestArgCodecAgrees: AppendCommand, CheckArgs, AppendArg and CloneArgs agree on every
// supported type (the bytes sent are the bulk string of AppendArg's text; a clone is of the
// same type and encodes the same) and refuse the same unsupported ones with the same error.
func TestArgCodecAgrees(t *testing.T) {
	for _, v := range argSupported {
		args := []any{"CMD", v}
		if err := CheckArgs(args); err != nil {
			t.Errorf("%T %v: CheckArgs: %v", v, v, err)
		}
		got, err := AppendCommand(nil, args...)
		if err != nil {
			t.Errorf("%T %v: AppendCommand: %v", v, v, err)
			continue
		}
		text := AppendArg([]byte("pre"), v)
		if string(text[:3]) != "pre" {
			t.Errorf("%T: AppendArg changed dst's prefix: %q", v, text)
		}
		want := AppendBulk(AppendBulkString(AppendArrayHeader(nil, 2), "CMD"), text[3:])
		if string(got) != string(want) {
			t.Errorf("%T %v: AppendCommand sent %q, AppendArg says %q", v, v, got, want)
		}
		clone, err := CloneArgs(args)
		if err != nil || len(clone) != 2 {
			t.Errorf("%T %v: CloneArgs: %v %v", v, v, clone, err)
			continue
		}
		wantType := reflect.TypeOf(v)
		if _, ok := v.(time.Time); ok {
			wantType = reflect.TypeOf("") // its text: a Time keeps a pointer (its Location)
		}
		if reflect.TypeOf(clone[1]) != wantType {
			t.Errorf("%T: clone has type %T", v, clone[1])
		}
		again, _ := AppendCommand(nil, clone...)
		if string(again) != string(got) {
			t.Errorf("%T %v: the clone encodes as %q, the original as %q", v, v, again, got)
		}
	}
	for _, v := range argUnsupported {
		args := []any{"CMD", "k", v}
		checkErr := CheckArgs(args)
		dst := []byte("keep")
		got, appendErr := AppendCommand(dst, args...)
		if string(got) != "keep" {
			t.Errorf("%T: AppendCommand changed dst to %q", v, got)
		}
		clone, cloneErr := CloneArgs(args)
		if clone != nil {
			t.Errorf("%T: CloneArgs returned %v with its error", v, clone)
		}
		if text := AppendArg([]byte("keep"), v); string(text) != "keep" {
			t.Errorf("%T: AppendArg wrote %q for a refused type", v, text)
		}
		for name, err := range map[string]error{"CheckArgs": checkErr, "AppendCommand": appendErr, "CloneArgs": cloneErr} {
			var ae *ArgTypeError
			if !errors.As(err, &ae) || ae.Index != 2 || ae.Type != reflect.TypeOf(v) {
				t.Errorf("%T: %s returned %v, want *ArgTypeError{2, %T}", v, name, err, v)
				continue
			}
			if err.Error() != checkErr.Error() {
				t.Errorf("%T: %s says %q, CheckArgs %q", v, name, err, checkErr)
			}
		}
	}
}

// TestArgTypesCovered: argSupported names every type supportedArg accepts among the
// numeric and byte kinds, so that a type added to the codec must be added to the list
// (and so to TestArgCodecAgrees).
func TestArgTypesCovered(t *testing.T) {
	listed := map[reflect.Type]bool{}
	for _, v := range argSupported {
		listed[reflect.TypeOf(v)] = true
	}
	for _, v := range []any{
		"", []byte(nil), int(0), int8(0), int16(0), int32(0), int64(0), uint(0), uint8(0),
		uint16(0), uint32(0), uint64(0), uintptr(0), float32(0), float64(0), complex64(0),
		complex128(0), false, []rune(nil), namedInt(0), time.Duration(0), time.Time{},
	} {
		if supportedArg(v) != listed[reflect.TypeOf(v)] {
			t.Errorf("%T: supported %v, listed in argSupported %v", v, supportedArg(v), listed[reflect.TypeOf(v)])
		}
	}
}

// TestCloneArgsCopies: a clone shares no memory with the caller's arguments.
func TestCloneArgsCopies(t *testing.T) {
	b := []byte("value")
	s := string([]byte("key"))
	clone, err := CloneArgs([]any{"SET", s, b})
	if err != nil {
		t.Fatal(err)
	}
	b[0] = 'X'
	if string(clone[2].([]byte)) != "value" {
		t.Fatalf("the clone's []byte follows the caller's: %q", clone[2])
	}
	if unsafe.StringData(clone[1].(string)) == unsafe.StringData(s) {
		t.Fatal("the clone's string shares the caller's bytes")
	}
}

// TestAppendArgAllocs: AppendArg does not allocate into a buffer that has room.
func TestAppendArgAllocs(t *testing.T) {
	buf := make([]byte, 0, 64)
	var args = []any{"key", []byte("k"), 42, uint64(7), 1.5, true, time.Second,
		time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.FixedZone("", -(13*3600+59*60)))}
	if n := testing.AllocsPerRun(100, func() {
		for _, a := range args {
			buf = AppendArg(buf[:0], a)
		}
	}); n != 0 {
		t.Fatalf("AppendArg allocated %v times", n)
	}
}
