package redline

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/redline-go/redline/redistest"
)

// BenchmarkHooks measures GET through the client with the command hooks unset and,
// in the normal build, with every hook set to a no-op. Built with the tag
// redline_nohooks (the hooks compiled out), "unset" is the baseline: make bench-hooks
// runs both builds in alternation and compares them (docs/OBSERVABILITY.md).
func BenchmarkHooks(b *testing.B) {
	cl := sharedCluster(b, "bench", redistest.Config{Masters: 3, NoProxy: true})
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
		for _, par := range []int{1, 64} {
			b.Run(fmt.Sprintf("%s/goroutines=%d", v.name, par), func(b *testing.B) {
				b.ReportAllocs()
				var wg sync.WaitGroup
				per := b.N/par + 1
				b.ResetTimer()
				for g := range par {
					wg.Add(1)
					go func() {
						defer wg.Done()
						for i := range per {
							if err := c.Do(ctx, "GET", keys[(g*7919+i)%nkeys]).Err(); err != nil {
								b.Error(err)
								return
							}
						}
					}()
				}
				wg.Wait()
			})
		}
	}
}
