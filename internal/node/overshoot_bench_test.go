package node

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/redline-go/redline/internal/conn"
	"github.com/redline-go/redline/redistest"
)

// overshootDeadline is the deadline of every call in the overshoot benchmarks.
const overshootDeadline = 50 * time.Millisecond

// BenchmarkDeadlineOvershoot measures, per fault mode in which a call must wait, how
// far past its deadline a call returns: p50/p99/max of (elapsed − deadline), with 16
// callers at once. Run with -benchtime=1000x for 1,000 calls per mode. The node's own
// limits (DialTimeout, ReplyTimeout) are set far beyond the run, so every call waits
// for its deadline instead of failing fast.
func BenchmarkDeadlineOvershoot(b *testing.B) {
	for _, tc := range []struct {
		name  string
		node  int
		mode  redistest.Mode
		dialt bool // establish the connection before the fault
	}{
		{"blackhole", 0, redistest.Blackhole, false},
		{"hang", 1, redistest.Hang, true},
		{"slow-200ms", 2, redistest.Slow(200 * time.Millisecond), true},
	} {
		b.Run(tc.name, func(b *testing.B) {
			c, rn := faultNode(b, tc.node)
			n := New(rn.Addr(), Options{
				Conn:        conn.Options{TLS: c.TLSConfig(), ReplyTimeout: time.Hour},
				DialTimeout: time.Hour,
			})
			defer n.Close()
			if tc.dialt {
				if _, err := n.Do(ctxT(b, 5*time.Second), "PING"); err != nil {
					b.Fatal(err)
				}
			}
			if err := rn.SetFault(tc.mode); err != nil {
				b.Fatal(err)
			}
			over := measure(b, n, func(el time.Duration, err error) bool { return err != nil })
			report(b, over, "over")
		})
	}
}

// BenchmarkFastFail measures how long a call to a node known to be down takes, per
// fault mode that makes a node down: p50/p99/max of elapsed.
func BenchmarkFastFail(b *testing.B) {
	for _, tc := range []struct {
		name string
		node int
		mode redistest.Mode
	}{
		{"refuse", 0, redistest.Refuse},
		{"tls-bad", 1, redistest.TLSBad},
		{"reset", 2, redistest.Reset},
	} {
		b.Run(tc.name, func(b *testing.B) {
			c, rn := faultNode(b, tc.node)
			n := New(rn.Addr(), Options{Conn: conn.Options{TLS: c.TLSConfig()}, BackoffBase: time.Hour, BackoffMax: time.Hour})
			defer n.Close()
			if err := rn.SetFault(tc.mode); err != nil {
				b.Fatal(err)
			}
			n.Do(ctxT(b, time.Second), "PING") // the failure that puts it down
			if n.State() != StateDown {
				b.Fatalf("node %v after a %v failure", n.State(), tc.mode)
			}
			els := measure(b, n, func(el time.Duration, err error) bool { return err != nil })
			report(b, els, "elapsed")
		})
	}
}

// BenchmarkTimerBaseline is the floor the runtime sets: how late a bare context
// deadline wakes a goroutine waiting on it (16 goroutines, as in the others).
func BenchmarkTimerBaseline(b *testing.B) {
	var mu sync.Mutex
	var over []time.Duration
	b.SetParallelism(8)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			start := time.Now()
			ctx, cancel := context.WithDeadline(context.Background(), start.Add(overshootDeadline))
			<-ctx.Done()
			d := time.Since(start) - overshootDeadline
			cancel()
			mu.Lock()
			over = append(over, d)
			mu.Unlock()
		}
	})
	report(b, over, "over")
}

// measure runs b.N calls with a 50ms deadline from 16 goroutines and returns, per
// call, elapsed − deadline (waiting modes) or elapsed (when calls fail before).
func measure(b *testing.B, n *Node, ok func(time.Duration, error) bool) []time.Duration {
	var mu sync.Mutex
	out := make([]time.Duration, 0, b.N)
	b.SetParallelism(8) // 16 goroutines on 2 CPUs
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			start := time.Now()
			ctx, cancel := context.WithDeadline(context.Background(), start.Add(overshootDeadline))
			_, err := n.Do(ctx, "PING")
			el := time.Since(start)
			waited := ctx.Err() != nil
			cancel()
			if !ok(el, err) {
				b.Errorf("unexpected result: %v", err)
				return
			}
			d := el
			if waited {
				d = el - overshootDeadline
			}
			mu.Lock()
			out = append(out, d)
			mu.Unlock()
		}
	})
	b.StopTimer()
	return out
}

func report(b *testing.B, ds []time.Duration, what string) {
	if len(ds) == 0 {
		return
	}
	slices.Sort(ds)
	pct := func(p float64) time.Duration { return ds[min(len(ds)-1, int(p*float64(len(ds))))] }
	b.ReportMetric(float64(pct(0.5).Microseconds()), what+"-p50-µs")
	b.ReportMetric(float64(pct(0.99).Microseconds()), what+"-p99-µs")
	b.ReportMetric(float64(ds[len(ds)-1].Microseconds()), what+"-max-µs")
	b.ReportMetric(0, "ns/op")
}
