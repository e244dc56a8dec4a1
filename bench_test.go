package redline

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/redline-go/redline/internal/testkit"
	"github.com/redline-go/redline/redistest"
)

var benchValSize = flag.Int("bench.valsize", 0, "BenchmarkClient: value size in bytes (0: 16)")

// BenchmarkClient measures GET and SET of 16-byte values through the cluster client on
// a 3-master cluster without proxies (keys spread over all slots), at 1, 128 and 512
// goroutines.
func BenchmarkClient(b *testing.B) {
	benchVal := "0123456789abcdef"
	if *benchValSize > 0 {
		benchVal = strings.Repeat("v", *benchValSize)
	}
	cl := redistest.Shared(b, "bench", redistest.Config{Masters: 3, NoProxy: true})
	c := newTestClient(b, cl, Options{})
	ctx := context.Background()
	const nkeys = 1000
	keys := make([]string, nkeys)
	for i := range keys {
		keys[i] = fmt.Sprintf("bench:%d", i)
		if err := c.Do(ctx, "SET", keys[i], benchVal).Err(); err != nil {
			b.Fatal(err)
		}
	}
	for _, op := range []string{"GET", "SET"} {
		for _, par := range []int{1, 128, 512} {
			b.Run(fmt.Sprintf("%s/goroutines=%d", op, par), func(b *testing.B) {
				runParallel(b, par, func(g, i int) error {
					k := keys[(g*7919+i)%nkeys]
					if op == "GET" {
						return c.Do(ctx, "GET", k).Err()
					}
					return c.Do(ctx, "SET", k, benchVal).Err()
				})
			})
		}
	}
}

// runParallel runs call b.N times in all from par goroutines (g: the goroutine, i: its
// call), reporting allocations; the first error a goroutine meets ends it.
func runParallel(b *testing.B, par int, call func(g, i int) error) {
	b.ReportAllocs()
	var wg sync.WaitGroup
	per := b.N/par + 1
	cpu0 := processCPU()
	r0, w0 := sysIO()
	b.ResetTimer()
	for g := range par {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range per {
				if err := call(g, i); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	b.StopTimer()
	// The process's CPU time per call (the client's, since the servers are other
	// processes): steadier than ns/op on a shared machine.
	b.ReportMetric(float64(processCPU()-cpu0)/float64(b.N), "cpu-ns/op")
	r1, w1 := sysIO()
	b.ReportMetric(float64(r1-r0)/float64(b.N), "reads/op")
	b.ReportMetric(float64(w1-w0)/float64(b.N), "writes/op")
}

// processCPU returns the CPU time this process has used (user and system), in ns.
func processCPU() int64 {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}

// skipAllocsUnderRace skips an allocation count under the race detector, which makes
// sync.Pool drop a quarter of what is put in it (to catch misuse), so that pooled
// requests are allocated again at random. `make test` runs these tests a second time
// without it (Makefile unit: -run 'Allocs'), where the counts hold.
func skipAllocsUnderRace(t *testing.T) {
	t.Helper()
	if testkit.Race {
		t.Skip("the race detector drops sync.Pool puts at random: counted in make test's run without it (-run Allocs)")
	}
}

// TestAllocsPerCall guards the allocation budget of the hot path: a GET allocates its
// value and nothing else, a SET nothing (its OK is shared). A change that makes the
// call's Waiter or arguments escape to the heap fails here, not only in make bench.
func TestAllocsPerCall(t *testing.T) {
	skipAllocsUnderRace(t)
	cl := redistest.Shared(t, "bench", redistest.Config{Masters: 3, NoProxy: true})
	c := newTestClient(t, cl, Options{})
	ctx := context.Background()
	// Variables, as in real code (constants are boxed without allocating whether or not
	// the arguments escape): a change that makes Do's arguments escape costs one
	// allocation per argument here, as it did in make bench.
	key := fmt.Sprintf("allocs:%d", os.Getpid())
	val := []byte("0123456789abcdef")
	if err := c.Do(ctx, "SET", key, val).Err(); err != nil {
		t.Fatal(err)
	}
	get := testing.AllocsPerRun(300, func() {
		if err := c.Do(ctx, "GET", key).Err(); err != nil {
			t.Fatal(err)
		}
	})
	set := testing.AllocsPerRun(300, func() {
		if err := c.Do(ctx, "SET", key, val).Err(); err != nil {
			t.Fatal(err)
		}
	})
	if get > 1 || set > 0 {
		t.Errorf("allocations per call: GET %v (want ≤ 1), SET %v (want 0)", get, set)
	}
}

// BenchmarkDoMulti measures DoMulti of 64 commands (GET and SET alternating, keys spread
// over all slots, so over every node), and of 64 with an MGET of 4 slots among them.
func BenchmarkDoMulti(b *testing.B) {
	cl := redistest.Shared(b, "bench", redistest.Config{Masters: 3, NoProxy: true})
	c := newTestClient(b, cl, Options{})
	ctx := context.Background()
	cmds := make([]Command, 64)
	for i := range cmds {
		k := fmt.Sprintf("bench:%d", i)
		if i%2 == 0 {
			cmds[i] = Cmd("GET", k)
		} else {
			cmds[i] = Cmd("SET", k, "0123456789abcdef")
		}
	}
	split := append([]Command(nil), cmds...)
	split[32] = Cmd("MGET", "bench:1", "bench:2", "bench:3", "bench:4")
	for _, bc := range []struct {
		name string
		cmds []Command
	}{{"get-set", cmds}, {"with-mget", split}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for range b.N {
				for _, r := range c.DoMulti(ctx, bc.cmds...) {
					if err := r.Err(); err != nil && err != Nil {
						b.Fatal(err)
					}
				}
			}
		})
	}
}

// sysIO returns this process's read and write system calls so far (Linux's
// /proc/self/io; zeros elsewhere): how well calls share them.
func sysIO() (r, w int64) {
	b, _ := os.ReadFile("/proc/self/io")
	for _, l := range strings.Split(string(b), "\n") {
		var v int64
		if n, _ := fmt.Sscanf(l, "syscr: %d", &v); n == 1 {
			r = v
		}
		if n, _ := fmt.Sscanf(l, "syscw: %d", &v); n == 1 {
			w = v
		}
	}
	return
}
