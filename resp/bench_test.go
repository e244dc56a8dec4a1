package resp

import (
	"bytes"
	"strconv"
	"testing"
)

// benchRead decodes the RESP value in over and over, from a reader that repeats it forever.
func benchRead(b *testing.B, in string) {
	r := NewReader(&loopReader{data: []byte(in)}, Limits{})
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := r.ReadValue(); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkReadSimpleString(b *testing.B) { benchRead(b, "+OK\r\n") }
func BenchmarkReadBulk(b *testing.B)         { benchRead(b, "$16\r\n0123456789abcdef\r\n") }
func BenchmarkReadInteger(b *testing.B)      { benchRead(b, ":1234567\r\n") }
func BenchmarkReadNull(b *testing.B)         { benchRead(b, "_\r\n") }
func BenchmarkReadError(b *testing.B)        { benchRead(b, "-MOVED 3999 127.0.0.1:6381\r\n") }

func BenchmarkReadArray10(b *testing.B) {
	benchRead(b, "*10\r\n"+string(bytes.Repeat([]byte("$16\r\n0123456789abcdef\r\n"), 10)))
}

func BenchmarkReadMap(b *testing.B) {
	benchRead(b, "%3\r\n+server\r\n+redis\r\n+version\r\n+7.2.4\r\n+proto\r\n:3\r\n")
}

func BenchmarkReadBulk64K(b *testing.B) {
	benchRead(b, string(AppendBulk(nil, make([]byte, 64<<10))))
}

func BenchmarkAppendCommandGET(b *testing.B) {
	dst := make([]byte, 0, 256)
	b.ReportAllocs()
	for b.Loop() {
		dst = AppendCommandStrings(dst[:0], "GET", "user:1000:name")
	}
}

func BenchmarkAppendCommandSET(b *testing.B) {
	dst := make([]byte, 0, 256)
	b.ReportAllocs()
	for b.Loop() {
		dst = AppendCommandStrings(dst[:0], "SET", "user:1000:name", "0123456789abcdef")
	}
}

func BenchmarkAppendCommandAnySET(b *testing.B) {
	dst := make([]byte, 0, 256)
	val := []byte("0123456789abcdef")
	b.ReportAllocs()
	for b.Loop() {
		dst, _ = AppendCommand(dst[:0], "SET", "user:1000:name", val, "EX", 60)
	}
}

func BenchmarkAppendValueArray10(b *testing.B) {
	v, err := NewReader(bytes.NewReader([]byte("*10\r\n"+string(bytes.Repeat([]byte("$16\r\n0123456789abcdef\r\n"), 10)))), Limits{}).ReadValue()
	if err != nil {
		b.Fatal(err)
	}
	dst := make([]byte, 0, 1024)
	b.ReportAllocs()
	for b.Loop() {
		dst = AppendValue(dst[:0], v)
	}
}

// BenchmarkReadLRANGE decodes a flat array of 100,000 short bulk strings, the reply of
// an LRANGE over a long list, and reports the cost per element.
func BenchmarkReadLRANGE(b *testing.B) {
	const n = 100_000
	in := AppendArrayHeader(nil, n)
	for i := range n {
		in = AppendBulkString(in, "element:"+strconv.Itoa(i))
	}
	r := NewReader(&loopReader{data: in}, Limits{})
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		v, err := r.ReadValue()
		if err != nil || len(v.Elems) != n {
			b.Fatal(err, len(v.Elems))
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/n, "ns/elem")
}
