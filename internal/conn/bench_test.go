package conn

import (
	"context"
	"net"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/redline-go/redline/redistest"
)

// benchConn dials one connection to a real single-node cluster (no proxy).
func benchConn(b testing.TB) *Conn {
	b.Helper()
	cl := redistest.Run(b, redistest.Config{Masters: 1, NoProxy: true})
	c, err := Dial(context.Background(), &Options{Addr: cl.Node(0).Addr()})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { c.Close() })
	if _, err := c.Do(context.Background(), "SET", "bench:key", "0123456789abcdef"); err != nil {
		b.Fatal(err)
	}
	return c
}

// BenchmarkGET measures GET of a 16-byte value over one pipelined connection to a
// real redis-server, with 1, 16 and 128 goroutines sharing it.
func BenchmarkGET(b *testing.B) {
	c := benchConn(b)
	ctx := context.Background()
	for _, par := range []int{1, 16, 128} {
		b.Run(benchName(par), func(b *testing.B) {
			b.ReportAllocs()
			var wg sync.WaitGroup
			per := b.N/par + 1
			b.ResetTimer()
			u0 := startUsage()
			for range par {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for range per {
						if _, err := c.Do(ctx, "GET", "bench:key"); err != nil {
							b.Error(err)
							return
						}
					}
				}()
			}
			wg.Wait()
			reportCPU(b, u0)
		})
	}
}

// usage is a benchmark's CPU time and context switches at its start.
type usage struct {
	cpu time.Duration
	csw int64
}

func startUsage() usage {
	cpu, csw := cpuNow()
	return usage{cpu, csw}
}

// reportCPU adds the process's CPU time and context switches per operation since u0:
// on a shared, busy machine the wall-clock time of a round trip is noisy, while what
// a call costs the client's process (its goroutine hand-offs, thread wake-ups) is not.
func reportCPU(b *testing.B, u0 usage) {
	cpu, csw := cpuNow()
	b.ReportMetric(float64(cpu-u0.cpu)/float64(b.N), "cpu-ns/op")
	b.ReportMetric(float64(csw-u0.csw)/float64(b.N), "ctxsw/op")
}

func benchName(par int) string { return "goroutines=" + strconv.Itoa(par) }

// BenchmarkRawGET is the round-trip floor BenchmarkGET/goroutines=1 is held to: one
// goroutine writing a GET to a plain socket and reading its reply itself, no client.
func BenchmarkRawGET(b *testing.B) {
	c := benchConn(b)
	nc, err := net.Dial("tcp", c.Addr())
	if err != nil {
		b.Fatal(err)
	}
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(time.Minute)) // a mistake fails, never hangs
	req := []byte("*2\r\n$3\r\nGET\r\n$9\r\nbench:key\r\n")
	const reply = "$16\r\n0123456789abcdef\r\n"
	buf := make([]byte, 64)
	b.ReportAllocs()
	b.ResetTimer()
	u0 := startUsage()
	defer reportCPU(b, u0)
	for range b.N {
		if _, err := nc.Write(req); err != nil {
			b.Fatal(err)
		}
		for got := 0; got < len(reply); {
			n, err := nc.Read(buf[got:])
			if err != nil {
				b.Fatal(err)
			}
			got += n
		}
	}
}
