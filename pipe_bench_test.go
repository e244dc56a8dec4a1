package redline

import (
	"context"
	"fmt"
	"testing"

	"github.com/redline-go/redline/redistest"
)

// BenchmarkPipeline100 compares one pipeline of 100 commands (GET and SET alternating,
// keys over every node) sent three ways: DoMulti of commands built for each call (as a
// caller builds them), DoMulti of commands built once (the floor: no argument is
// boxed per call), and a typed pipeline (Pipelined with Pipe.Get and Pipe.Set, each
// GET's Future read). docs/PERFORMANCE.md has a run.
func BenchmarkPipeline100(b *testing.B) {
	cl := redistest.Shared(b, "bench", redistest.Config{Masters: 3, NoProxy: true})
	c := newTestClient(b, cl, Options{})
	ctx := context.Background()
	const n = 100
	keys := make([]string, n)
	for i := range keys {
		keys[i] = fmt.Sprintf("bench:pipe:%d", i)
	}
	const value = "0123456789abcdef"
	check := func(b *testing.B, err error) {
		if err != nil && err != Nil {
			b.Fatal(err)
		}
	}
	b.Run("domulti", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			cmds := make([]Command, 0, n)
			for i, k := range keys {
				if i%2 == 0 {
					cmds = append(cmds, Cmd("GET", k))
				} else {
					cmds = append(cmds, Cmd("SET", k, value))
				}
			}
			for i, r := range c.DoMulti(ctx, cmds...) {
				if i%2 == 0 {
					_, err := r.Text()
					check(b, err)
				} else {
					check(b, r.Err())
				}
			}
		}
	})
	b.Run("domulti-prebuilt", func(b *testing.B) {
		cmds := make([]Command, 0, n)
		for i, k := range keys {
			if i%2 == 0 {
				cmds = append(cmds, Cmd("GET", k))
			} else {
				cmds = append(cmds, Cmd("SET", k, value))
			}
		}
		b.ReportAllocs()
		for range b.N {
			for i, r := range c.DoMulti(ctx, cmds...) {
				if i%2 == 0 {
					_, err := r.Text()
					check(b, err)
				} else {
					check(b, r.Err())
				}
			}
		}
	})
	b.Run("typed", func(b *testing.B) {
		gets := make([]Future[string], 0, n/2)
		sets := make([]Future[struct{}], 0, n/2)
		b.ReportAllocs()
		for range b.N {
			gets, sets = gets[:0], sets[:0]
			err := c.Pipelined(ctx, func(p *Pipe) error {
				for i, k := range keys {
					if i%2 == 0 {
						gets = append(gets, p.Get(k))
					} else {
						sets = append(sets, p.Set(k, value, nil))
					}
				}
				return nil
			})
			check(b, err)
			for _, f := range gets {
				_, err := f.Result()
				check(b, err)
			}
			for _, f := range sets {
				check(b, f.Err())
			}
		}
	})
}
