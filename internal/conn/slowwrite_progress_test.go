package conn

import (
	"bytes"
	"io"
	"net"
	"testing"
	"time"

	"github.com/redline-go/redline/resp"
)

// slowReader serves one connection that reads want bytes at about 6.4 MB/s (64 KiB
// every 10ms: a slow link, steady progress), then answers +OK.
func slowReader(t *testing.T, want int) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		nc, err := ln.Accept()
		if err != nil {
			return
		}
		defer nc.Close()
		buf := make([]byte, 64<<10)
		for got := 0; got < want; {
			n, err := io.ReadFull(nc, buf[:min(len(buf), want-got)])
			got += n
			if err != nil {
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
		nc.Write([]byte("+OK\r\n"))
		io.Copy(io.Discard, nc)
	}()
	return ln.Addr().String()
}

// A large write making steady progress is not declared dead after ReplyTimeout (from
// review2): its reply is owed only once it has been written and had time to drain
// from the socket buffers, and the write deadline is re-armed per chunk written. 4 MiB
// fit in socket buffers within ReplyTimeout (the reply came too late); writing 8 MiB
// takes longer than ReplyTimeout (an absolute write deadline killed it).
func TestSlowSteadyWriteIsProgress(t *testing.T) {
	for _, size := range []int{4 << 20, 8 << 20} {
		big := bytes.Repeat([]byte("x"), size)
		want := len(resp.AppendCommandStrings(nil, "SET", "k", string(big)))
		addr := slowReader(t, want)
		c, err := Dial(ctxWithTimeout(t, 5*time.Second), &Options{Addr: addr, Protocol: 2, ReplyTimeout: 300 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		v, err := c.Do(ctxWithTimeout(t, 10*time.Second), "SET", "k", big)
		if err != nil || string(v.Str) != "OK" {
			t.Fatalf("SET of %s to a server reading steadily at ~6 MB/s, 10s deadline: %v, %v after %v", byteSize(int64(size)), v, err, time.Since(start).Round(time.Millisecond))
		}
		t.Logf("%s: %v", byteSize(int64(size)), time.Since(start).Round(time.Millisecond))
		c.Close()
	}
}
