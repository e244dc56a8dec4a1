package resp

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"testing"
)

func TestWriter(t *testing.T) {
	var out bytes.Buffer
	w := NewWriter(&out)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(w.WriteValue(agg(TypeMap, simple("a"), integer(1))))
	must(w.WriteValueRESP2(agg(TypeMap, simple("a"), integer(1))))
	must(w.WriteCommand("PING"))
	_, err := fmt.Fprintf(w, "$%d\r\n%s\r\n", 2, "hi")
	must(err)
	if out.Len() != 0 {
		t.Fatal("wrote before Flush")
	}
	if w.Buffered() == 0 {
		t.Fatal("nothing buffered")
	}
	must(w.Flush())
	must(w.Flush())
	want := "%1\r\n+a\r\n:1\r\n*2\r\n+a\r\n:1\r\n*1\r\n$4\r\nPING\r\n$2\r\nhi\r\n"
	if out.String() != want {
		t.Fatalf("got %q, want %q", out.String(), want)
	}
	// Large output is written without waiting for Flush.
	out.Reset()
	big := bulk(string(make([]byte, writerFlushAt)))
	must(w.WriteValue(big))
	if out.Len() == 0 || w.Buffered() != 0 {
		t.Fatalf("large value not written: out %d, buffered %d", out.Len(), w.Buffered())
	}
}

type failWriter struct{ n int }

func (f *failWriter) Write(p []byte) (int, error) {
	if f.n == 0 {
		return 0, errors.New("broken pipe")
	}
	f.n--
	return len(p) / 2, nil
}

func TestWriterErrors(t *testing.T) {
	w := NewWriter(&failWriter{n: 1})
	_ = w.WriteValue(simple("OK"))
	if err := w.Flush(); err != io.ErrShortWrite {
		t.Fatalf("short write: %v", err)
	}
	if err := w.WriteValue(simple("OK")); err != io.ErrShortWrite {
		t.Fatalf("error not sticky: %v", err)
	}
	if _, err := w.Write([]byte("x")); err != io.ErrShortWrite {
		t.Fatalf("error not sticky: %v", err)
	}
	var out bytes.Buffer
	w.Reset(&out)
	if err := w.WriteCommand("GET", "k"); err != nil {
		t.Fatal(err)
	}
	if err := w.Flush(); err != nil || out.String() != "*2\r\n$3\r\nGET\r\n$1\r\nk\r\n" {
		t.Fatalf("after Reset: %q %v", out.String(), err)
	}
	w = NewWriter(&failWriter{})
	_ = w.WriteValueRESP2(null())
	if err := w.Flush(); err == nil || err.Error() != "broken pipe" {
		t.Fatalf("failed write: %v", err)
	}
	if err := w.WriteCommand("x"); err == nil || w.WriteValueRESP2(null()) == nil {
		t.Fatal("error not sticky")
	}
}
