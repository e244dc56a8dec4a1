package resp

import (
	"bytes"
	"io"
	"runtime"
	"strings"
	"testing"
)

// allocatedBy returns the bytes allocated on the heap while f runs.
func allocatedBy(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// A length prefix within the limits is trusted only as far as the bytes that arrive: the
// memory allocated follows the bytes read, not the declared length.
func TestAllocationFollowsBytesRead(t *testing.T) {
	const MiB = 1 << 20
	cases := []struct {
		name string
		in   io.Reader
		max  uint64 // bytes allocated, at most
	}{
		{"bulk header then EOF", strings.NewReader("$400000000\r\n"), 256 << 10},
		{"bulk header, 1 MiB, EOF", io.MultiReader(strings.NewReader("$400000000\r\n"),
			bytes.NewReader(make([]byte, MiB))), 8 * MiB},
		{"bulk error header then EOF", strings.NewReader("!400000000\r\n"), 256 << 10},
		{"verbatim header then EOF", strings.NewReader("=400000000\r\n"), 256 << 10},
		{"array header then EOF", strings.NewReader("*16000000\r\n"), 256 << 10},
		{"array header, 1000 elements, EOF", strings.NewReader("*16000000\r\n" + strings.Repeat(":1\r\n", 1000)), MiB},
		{"map header then EOF", strings.NewReader("%16000000\r\n"), 256 << 10},
		{"nested headers then EOF", strings.NewReader(strings.Repeat("*16000000\r\n", 127)), 256 << 10},
		{"nested maps then EOF", strings.NewReader(strings.Repeat("%16000000\r\n+k\r\n", 127)), 256 << 10},
		{"attribute header then EOF", strings.NewReader("|16000000\r\n"), 256 << 10},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var err error
			n := allocatedBy(func() { _, err = NewReader(tc.in, Limits{}).ReadValue() })
			if err != io.ErrUnexpectedEOF {
				t.Fatalf("err = %v, want io.ErrUnexpectedEOF", err)
			}
			if n > tc.max {
				t.Fatalf("allocated %d bytes, want at most %d", n, tc.max)
			}
			t.Logf("allocated %d bytes", n)
		})
	}
}

// Limits are checked before anything is allocated from the length.
func TestAbsurdLengthAllocatesNothing(t *testing.T) {
	for _, in := range []string{"$2147483647\r\n", "*2147483647\r\n", "%2147483647\r\n", "$9223372036854775807\r\n"} {
		r := NewReader(&loopReader{data: []byte(in)}, Limits{})
		n := allocatedBy(func() {
			for range 100 {
				_, _ = r.ReadValue()
			}
		})
		if n > 100*1024 { // the error values only
			t.Errorf("%q: allocated %d bytes for 100 reads", in, n)
		}
	}
}

func TestDecodeAllocs(t *testing.T) {
	cases := []struct {
		in   string
		want float64
	}{
		{":12345\r\n", 0},
		{":-1\r\n", 0},
		{"_\r\n", 0},
		{"$-1\r\n", 0},
		{"*-1\r\n", 0},
		{"#t\r\n", 0},
		{",1.5\r\n", 0},
		{"+OK\r\n", 0}, // shared
		{"+QUEUED\r\n", 0},
		{"+PONG\r\n", 0},
		{"+Background saving started\r\n", 1},
		{"$16\r\n0123456789abcdef\r\n", 1},
		{"=15\r\ntxt:Some string\r\n", 1},
		{"*0\r\n", 0},
		{"*2\r\n:1\r\n:2\r\n", 1},
		{"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n", 2}, // the elements, and one array for their strings
		{"|1\r\n:1\r\n:2\r\n:3\r\n", 1},
		{"-ERR x\r\n", 3}, // Str, Msg and the *Error
	}
	for _, tc := range cases {
		r := NewReader(&loopReader{data: []byte(tc.in)}, Limits{})
		got := testing.AllocsPerRun(1000, func() {
			if _, err := r.ReadValue(); err != nil {
				t.Fatal(err)
			}
		})
		if got != tc.want {
			t.Errorf("%q: %v allocations, want %v", tc.in, got, tc.want)
		}
	}
}

func TestEncodeAllocs(t *testing.T) {
	dst := make([]byte, 0, 1024)
	val := []byte("value")
	cases := map[string]func(){
		"AppendCommandStrings": func() { dst = AppendCommandStrings(dst[:0], "SET", "key", "value") },
		"AppendCommand": func() {
			dst, _ = AppendCommand(dst[:0], "SET", "key", val, 42, uint8(1), 1.5, true)
		},
		"AppendValue": func() {
			dst = AppendValue(dst[:0], Value{Type: TypeArray, Elems: []Value{{Type: TypeInteger, Int: 1}}})
		},
		"AppendValueRESP2": func() {
			dst = AppendValueRESP2(dst[:0], Value{Type: TypeDouble, Float: 1.5})
		},
		"AppendError":   func() { dst = AppendError(dst[:0], "ERR x") },
		"AppendBulkInt": func() { dst = AppendBulkInt(dst[:0], -123456789) },
	}
	for name, f := range cases {
		if got := testing.AllocsPerRun(1000, f); got != 0 {
			t.Errorf("%s: %v allocations, want 0", name, got)
		}
	}
}
