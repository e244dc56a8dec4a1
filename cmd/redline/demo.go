package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"syscall"
	"time"

	"github.com/redline-go/redline/redistest"
)

// runDemo starts a local cluster through redistest, prints its topology and stops it.
func runDemo(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	masters := fs.Int("masters", 3, "number of masters")
	replicas := fs.Int("replicas", 1, "replicas per master")
	useTLS := fs.Bool("tls", false, "run the cluster with TLS only")
	verbose := fs.Bool("v", false, "log each step of the cluster start")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: redline demo [flags]\n\nStarts a throwaway local Redis Cluster (real redis-server processes on 127.0.0.1,\neach behind a fault proxy), prints its topology, then stops it and checks that no\nprocess is left.\n\nFlags:")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return exitUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "redline demo: unexpected argument %q\n", fs.Arg(0))
		return exitUsage
	}
	cfg := redistest.Config{Masters: *masters, ReplicasPerMaster: *replicas, TLS: *useTLS}
	if *verbose {
		cfg.Logf = func(format string, a ...any) { fmt.Fprintf(stderr, format+"\n", a...) }
	}

	fmt.Fprintf(stdout, "Starting a local Redis Cluster: %d masters, %d replica(s) each, TLS %v ...\n", *masters, *replicas, *useTLS)
	startCtx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	t0 := time.Now()
	c, err := redistest.Start(startCtx, cfg)
	if err != nil {
		fmt.Fprintf(stderr, "redline demo: %v\n", err)
		return 1
	}
	pids := c.PIDs()
	fmt.Fprintf(stdout, "Cluster ready in %v (every node: cluster_state:ok, same slot map, replicas linked).\n\n", time.Since(t0).Round(time.Millisecond))

	code := 0
	topo, err := c.Topology(startCtx)
	if err != nil {
		fmt.Fprintf(stderr, "redline demo: %v\n", err)
		code = 1
	} else {
		topo.WriteTable(stdout)
	}

	fmt.Fprintf(stdout, "\nStopping %d redis-server processes ...\n", len(pids))
	if err := c.Close(); err != nil {
		fmt.Fprintf(stderr, "redline demo: close: %v\n", err)
		code = 1
	}
	var alive []int
	for _, pid := range pids {
		if syscall.Kill(pid, 0) == nil {
			alive = append(alive, pid)
		}
	}
	if len(alive) > 0 {
		fmt.Fprintf(stderr, "redline demo: processes still running after stop: %v\n", alive)
		return 1
	}
	fmt.Fprintf(stdout, "Stopped; none of PIDs %v is running, temporary files removed.\n", pids)
	return code
}
