// Command lone measures one client alone in its process making sequential GETs (or SETs) on a
// 3-master cluster (no proxies): ops/s, and the process's CPU time and context
// switches per call (getrusage). It is how the lone-caller figures in
// docs/PERFORMANCE.md were taken; run the clients alternately, several times, on a
// quiet machine.
//
//	go run ./cmd/lone -serve > /tmp/addrs &          # a cluster, until killed (2 h at most)
//	go run ./cmd/lone -addrs $(cat /tmp/addrs) -client redline -fill 16
//	go run ./cmd/lone -addrs $(cat /tmp/addrs) -client go-redis -fill 16 -deadline 1s
//	go run ./cmd/lone -addrs $(cat /tmp/addrs) -client rueidis -op SET -fill 1024
//
// Wrap a run in `perf stat -e 'syscalls:sys_enter_*'` to count system calls per call.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	benchkv "github.com/redline-go/redline/bench/internal/kv"
	"github.com/redline-go/redline/redistest"
)

func main() {
	serve := flag.Bool("serve", false, "start a 3-master cluster, print its addresses, keep it until interrupted (2h at most)")
	addrs := flag.String("addrs", "", "the cluster's addresses, comma-separated")
	client := flag.String("client", "redline", "redline, go-redis or rueidis")
	n := flag.Int("n", 30000, "calls measured (after 2,000 unmeasured)")
	dl := flag.Duration("deadline", 0, "a context deadline per call (0: context.Background)")
	fill := flag.Int("fill", 0, "SET the 1,000 keys to values of this size first (0: the keys are missing); -op SET writes values of this size (16 at least)")
	op := flag.String("op", "GET", "GET or SET")
	flag.Parse()
	ctx := context.Background()
	if *serve {
		runCluster(ctx)
		return
	}
	if *n <= 0 || *addrs == "" {
		log.Fatal("lone: -addrs and a positive -n are needed (or -serve)")
	}
	as := strings.Split(*addrs, ",")
	keys := make([]string, 1000)
	for i := range keys {
		keys[i] = fmt.Sprintf("lone:%d", i)
	}
	if *fill > 0 {
		if err := fillKeys(ctx, as, keys, strings.Repeat("v", *fill)); err != nil {
			log.Fatalf("lone: fill: %v", err)
		}
	}
	spec, ok := benchkv.Lookup(*client)
	if !ok {
		log.Fatalf("lone: unknown client %q (redline, go-redis, rueidis)", *client)
	}
	if *op != "GET" && *op != "SET" {
		log.Fatalf("lone: unknown -op %q (GET, SET)", *op)
	}
	c, err := spec.New(ctx, as, nil, 0) // default options
	if err != nil {
		log.Fatalf("lone: %s: %v", *client, err)
	}
	defer c.Close()
	val := strings.Repeat("v", max(*fill, 16))
	do := func(ctx context.Context, k string) error {
		if *op == "SET" {
			return c.Set(ctx, k, val)
		}
		return c.Get(ctx, k)
	}
	call := func(i int) error {
		cctx, cancel := ctx, context.CancelFunc(func() {})
		if *dl > 0 {
			cctx, cancel = context.WithTimeout(ctx, *dl)
		}
		defer cancel()
		return do(cctx, keys[i%len(keys)])
	}
	for i := range 2000 {
		if err := call(i); err != nil {
			log.Fatalf("lone: warm-up: %v", err)
		}
	}
	var ru0, ru1 syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru0)
	start := time.Now()
	for i := range *n {
		if err := call(i); err != nil {
			log.Fatalf("lone: call %d: %v", i, err)
		}
	}
	el := time.Since(start)
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru1)
	cpu := time.Duration(ru1.Utime.Nano() + ru1.Stime.Nano() - ru0.Utime.Nano() - ru0.Stime.Nano())
	ctxsw := ru1.Nvcsw + ru1.Nivcsw - ru0.Nvcsw - ru0.Nivcsw
	fmt.Printf("%s %s ops/s %.0f cpu/op %v ctxsw/op %.2f\n", *client, *op, float64(*n)/el.Seconds(),
		(cpu / time.Duration(*n)).Round(10*time.Nanosecond), float64(ctxsw)/float64(*n))
}

func runCluster(ctx context.Context) {
	c, err := redistest.Start(ctx, redistest.Config{Masters: 3, NoProxy: true})
	if err != nil {
		log.Fatalf("lone: %v", err)
	}
	defer c.Close()
	fmt.Println(strings.Join(c.Addrs(), ","))
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	select {
	case <-sig:
	case <-time.After(2 * time.Hour):
	}
}

func fillKeys(ctx context.Context, addrs, keys []string, val string) error {
	c, err := benchkv.ByName(benchkv.Redline).New(ctx, addrs, nil, 0)
	if err != nil {
		return err
	}
	defer c.Close()
	for _, k := range keys {
		if err := c.Set(ctx, k, val); err != nil {
			return err
		}
	}
	return nil
}
