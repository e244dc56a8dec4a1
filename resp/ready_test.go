package resp

import (
	"bufio"
	"errors"
	"strings"
	"testing"
)

// Ready says a value is whole exactly when every byte of it is buffered, for every
// prefix of each reply; values it cannot delimit are ReadyUnknown, never Ready.
func TestReady(t *testing.T) {
	whole := []string{
		"+OK\r\n", "-ERR x\r\n", ":42\r\n", "$3\r\nfoo\r\n", "$0\r\n\r\n", "$-1\r\n", "*-1\r\n", "_\r\n",
		"#t\r\n", ",1.5\r\n", "(123\r\n", "!3\r\nbad\r\n", "=7\r\ntxt:abc\r\n",
		"*2\r\n$1\r\na\r\n:1\r\n", "%1\r\n+k\r\n*1\r\n$2\r\nvv\r\n", "~0\r\n",
		">2\r\n+pubsub\r\n$3\r\nmsg\r\n", "|1\r\n+ttl\r\n:3\r\n$1\r\nx\r\n",
		"$4\r\na\r\nb\r\n", // a bulk whose bytes contain CRLF
	}
	for _, v := range whole {
		for i := range len(v) {
			rd := NewReaderSize(strings.NewReader(v[:i]), 64, Limits{})
			for rd.Fill() == nil {
			}
			if st := rd.Ready(); st != NotReady {
				t.Errorf("%q of %q: Ready = %d, want NotReady", v[:i], v, st)
			}
		}
		rd := NewReaderSize(strings.NewReader(v+"+next\r\n"), 64, Limits{})
		for rd.Fill() == nil {
		}
		if st := rd.Ready(); st != Ready {
			t.Errorf("%q: Ready = %d, want Ready", v, st)
		}
		got, err := rd.ReadValue()
		if err != nil {
			t.Errorf("%q: %v", v, err)
		}
		_ = got
		if rd.Buffered() != len("+next\r\n") {
			t.Errorf("%q: ReadValue left %d bytes, want the next value's", v, rd.Buffered())
		}
	}
	for _, v := range []string{"$?\r\n;3\r\nabc\r\n;0\r\n", "*?\r\n:1\r\n.\r\n", "\r\n", "$x\r\n", "?1\r\n", "+a\n"} {
		rd := NewReaderSize(strings.NewReader(v), 64, Limits{})
		for rd.Fill() == nil {
		}
		if st := rd.Ready(); st != ReadyUnknown {
			t.Errorf("%q: Ready = %d, want ReadyUnknown", v, st)
		}
	}
	deep := strings.Repeat("*1\r\n", maxReadyDepth+1) + ":1\r\n"
	rd := NewReaderSize(strings.NewReader(deep), 64, Limits{})
	for rd.Fill() == nil {
	}
	if st := rd.Ready(); st != ReadyUnknown {
		t.Errorf("nesting deeper than the scan: Ready = %d, want ReadyUnknown", st)
	}
	// A value larger than the buffer: Fill says the buffer is full.
	rd = NewReaderSize(strings.NewReader("$100\r\n"+strings.Repeat("x", 100)+"\r\n"), 32, Limits{})
	var err error
	for err == nil {
		err = rd.Fill()
	}
	if !errors.Is(err, bufio.ErrBufferFull) || rd.Ready() != NotReady {
		t.Errorf("a value larger than the buffer: Fill %v, Ready %d", err, rd.Ready())
	}
}

// NextType names the next buffered value's type without consuming it; nothing
// buffered: false.
func TestNextType(t *testing.T) {
	rd := NewReaderSize(strings.NewReader(">1\r\n+x\r\n$1\r\na"), 64, Limits{})
	if _, ok := rd.NextType(); ok {
		t.Fatal("NextType with nothing buffered: ok")
	}
	for rd.Fill() == nil {
	}
	if typ, ok := rd.NextType(); !ok || typ != TypePush {
		t.Fatalf("NextType = %q, %v; want a push", typ, ok)
	}
	if _, err := rd.ReadValue(); err != nil {
		t.Fatal(err)
	}
	if typ, ok := rd.NextType(); !ok || typ != TypeBulkString || rd.Buffered() != 5 {
		t.Fatalf("NextType = %q, %v (%d buffered); want a bulk string, 5 buffered", typ, ok, rd.Buffered())
	}
}
