package redline

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/redline-go/redline/internal/cluster"
	"github.com/redline-go/redline/redistest"
)

// BenchmarkHooks measures GET through the client with the command hooks unset and,
// in the normal build, with every hook set to a no-op; and the client's own work for a
// GET without the network (route). Built with the tag
// redline_nohooks (the hooks compiled out), "unset" is the baseline: make bench-hooks
// runs both builds in alternation and compares them (docs/OBSERVABILITY.md).
func BenchmarkHooks(b *testing.B) {
	cl := redistest.Shared(b, "bench", redistest.Config{Masters: 3, NoProxy: true})
	const nkeys = 1000
	keys := make([]string, nkeys)
	setup := newTestClient(b, cl, Options{})
	ctx := context.Background()
	for i := range keys {
		keys[i] = fmt.Sprintf("bench:%d", i)
		if err := setup.Do(ctx, "SET", keys[i], "0123456789abcdef").Err(); err != nil {
			b.Fatal(err)
		}
	}
	noop := Hooks{
		BeforeCommand: func(ctx context.Context, _ CommandStart) context.Context { return ctx },
		AfterCommand:  func(context.Context, CommandEnd) {},
		OnDial:        func(DialInfo) {},
		OnNodeState:   func(NodeStateChange) {},
		OnTopology:    func(TopologyChange) {},
	}
	variants := []struct {
		name  string
		hooks Hooks
	}{{"unset", Hooks{}}}
	if hooksBuilt {
		variants = append(variants, struct {
			name  string
			hooks Hooks
		}{"noop", noop})
	}
	for _, v := range variants {
		c := newTestClient(b, cl, Options{Hooks: v.hooks})
		// route: the client's own work for a GET without the network — lookup, slot,
		// routing, waiter, the node's connection — ended by the codec refusing the key's
		// type just before the write. Pure CPU, so a few nanoseconds show.
		b.Run(v.name+"/route", func(b *testing.B) {
			b.ReportAllocs()
			bad := []int{1} // a type the codec does not encode
			for b.Loop() {
				if c.Do(ctx, "GET", bad).Err() == nil {
					b.Fatal("an unencodable argument was accepted")
				}
			}
		})
		for _, par := range []int{1, 64} {
			b.Run(fmt.Sprintf("%s/goroutines=%d", v.name, par), func(b *testing.B) {
				runParallel(b, par, func(g, i int) error { return c.Do(ctx, "GET", keys[(g*7919+i)%nkeys]).Err() })
			})
		}
	}
}

// BenchmarkHookCheck measures what the unset-hook check adds to a call, inside one
// process: blocks of calls through Do (which checks for hooks) alternate with blocks of
// the same calls through do (Do's body, without the check), the order swapped every
// pair, so that the machine's drift hits both alike. The calls take the route path of
// BenchmarkHooks (a GET's own work up to the write, no network). It reports the
// difference as check-%.
func BenchmarkHookCheck(b *testing.B) {
	cl := redistest.Shared(b, "bench", redistest.Config{Masters: 3, NoProxy: true})
	c := newTestClient(b, cl, Options{})
	ctx := context.Background()
	bad := []int{1} // a type the codec does not encode
	const block = 100
	viaDo := func() {
		for range block {
			if c.Do(ctx, "GET", bad).Err() == nil {
				b.Fatal("an unencodable argument was accepted")
			}
		}
	}
	viaInner := func() {
		for range block {
			var tr cluster.Trace
			if c.e.Do(ctx, []any{"GET", bad}, &tr).Err() == nil {
				b.Fatal("an unencodable argument was accepted")
			}
		}
	}
	var checked, unchecked time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i += 2 * block {
		first, second := viaDo, viaInner
		if (i/(2*block))%2 == 1 {
			first, second = viaInner, viaDo
		}
		t0 := time.Now()
		first()
		t1 := time.Now()
		second()
		t2 := time.Now()
		if (i/(2*block))%2 == 0 {
			checked, unchecked = checked+t1.Sub(t0), unchecked+t2.Sub(t1)
		} else {
			checked, unchecked = checked+t2.Sub(t1), unchecked+t1.Sub(t0)
		}
	}
	if unchecked > 0 {
		b.ReportMetric(100*(float64(checked)/float64(unchecked)-1), "check-%")
	}
}
