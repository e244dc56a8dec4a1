package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sync"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/redline-go/redline"
	"github.com/redline-go/redline/hashslot"
	"github.com/redline-go/redline/redistest"
)

// runDemo runs the seed scenario on a throwaway local TLS cluster: node 0 healthy and
// the only seed, nodes 1–3 faulty, for each fault mode and timeout; then stops it.
func runDemo(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlags("redline demo", demoUsage, stdout, stderr)
	verbose := fs.Bool("v", false, "log each step of the cluster start")
	logFormat := fs.String("log", "", "write the clients' log records (slog) to stderr: text or json")
	logLevel := fs.String("log-level", "debug", "the lowest level logged with -log: debug, info, warn or error")
	if done, code := fs.parse(args); done {
		return code
	}
	switch {
	case fs.NArg() == 1 && fs.Arg(0) == "shapes":
		return runDemoShapes(ctx, stdout, stderr)
	case fs.NArg() > 0:
		return fs.usageError("unexpected argument %q (the one variant is: redline demo shapes)", fs.Arg(0))
	}
	var logger *slog.Logger
	if *logFormat != "" {
		var level slog.Level
		if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
			return fs.usageError("--log-level: %v", err)
		}
		ho := &slog.HandlerOptions{Level: level}
		switch *logFormat {
		case "text":
			logger = slog.New(slog.NewTextHandler(stderr, ho))
		case "json":
			logger = slog.New(slog.NewJSONHandler(stderr, ho))
		default:
			return fs.usageError("--log must be text or json (got %q)", *logFormat)
		}
	}
	cfg := redistest.Config{Masters: 4, TLS: true}
	if *verbose {
		cfg.Logf = func(format string, a ...any) { fmt.Fprintf(stderr, format+"\n", a...) }
	}
	fmt.Fprintln(stdout, "Starting a local Redis Cluster: 4 masters, TLS, a fault proxy in front of each node ...")
	startCtx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	t0 := time.Now()
	c, err := redistest.Start(startCtx, cfg)
	if err != nil {
		fmt.Fprintf(stderr, "redline demo: %s\n", errLine(err))
		return 1
	}
	pids := c.PIDs()
	fmt.Fprintf(stdout, "Cluster ready in %v.\n\n", time.Since(t0).Round(time.Millisecond))
	code := 0
	if topo, err := c.Topology(startCtx); err == nil {
		topo.WriteTable(stdout)
	}
	if err := seedScenario(ctx, c, stdout, logger); err != nil {
		fmt.Fprintf(stderr, "redline demo: %s\n", errLine(err))
		code = 1
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

// scenarioRow is what one client saw under one fault mode and timeout.
type scenarioRow struct {
	mode      string
	timeout   time.Duration
	newClient time.Duration
	faulty    time.Duration // first call to a faulty node
	fastFail  time.Duration // median of repeated calls once the node is known down
	healthy   time.Duration // median healthy-node latency during the fault
	recovered time.Duration // after the fault cleared, until a faulty-node call succeeds
	errText   string
}

func seedScenario(ctx context.Context, c *redistest.Cluster, out io.Writer, logger *slog.Logger) error {
	topo, err := c.Topology(ctx)
	if err != nil {
		return err
	}
	keyOn := func(n *redistest.Node) string {
		for i := 0; ; i++ {
			k := fmt.Sprintf("demo:%d", i)
			if o := topo.Owner(hashslot.Key(k)); o != nil && o.Node == n {
				return k
			}
		}
	}
	healthyKey, faultyKey := keyOn(c.Node(0)), keyOn(c.Node(1))
	fmt.Fprintf(out, "\nSeed scenario: the client's only seed is %s (healthy); %s, %s, %s are faulty.\n",
		c.Node(0).Addr(), c.Node(1).Addr(), c.Node(2).Addr(), c.Node(3).Addr())
	var rows []scenarioRow
	for _, mode := range []redistest.Mode{redistest.TLSBad, redistest.Blackhole, redistest.Refuse, redistest.Hang} {
		fmt.Fprintf(out, "  %-9s ...", mode)
		for _, n := range c.Nodes()[1:] {
			if err := n.SetFault(mode); err != nil {
				return err
			}
		}
		timeouts := []time.Duration{100 * time.Millisecond, 500 * time.Millisecond, time.Second}
		got := make([]scenarioRow, len(timeouts))
		clients := make([]*redline.Client, len(timeouts))
		var wg sync.WaitGroup
		for i, to := range timeouts {
			wg.Add(1)
			go func() {
				defer wg.Done()
				got[i], clients[i] = measureFault(ctx, c, mode.String(), to, healthyKey, faultyKey, logger)
			}()
		}
		wg.Wait()
		cleared := time.Now()
		for _, n := range c.Nodes()[1:] {
			if err := n.SetFault(redistest.Pass); err != nil {
				return err
			}
		}
		for i, cl := range clients {
			if cl == nil {
				continue
			}
			for time.Since(cleared) < 15*time.Second {
				if cl.Do(ctx, "GET", faultyKey).Err() == nil {
					got[i].recovered = time.Since(cleared)
					break
				}
				time.Sleep(10 * time.Millisecond)
			}
			cl.Close()
		}
		rows = append(rows, got...)
		fmt.Fprintln(out, " done")
	}
	fmt.Fprintln(out)
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "FAULT\tTIMEOUT\tNEWCLIENT\tFAULTY-NODE CALL\tFAST-FAIL\tHEALTHY p50\tRECOVERED\tERROR A CALLER SEES")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%v\t%v\t%v\t%v\t%v\t%v\t%s\n", r.mode, r.timeout, ms(r.newClient), ms(r.faulty), us(r.fastFail), us(r.healthy), ms(r.recovered), r.errText)
	}
	tw.Flush()
	fmt.Fprintln(out, "\nFAULTY-NODE CALL is the first call to a faulty node's slot; FAST-FAIL the median of")
	fmt.Fprintln(out, "later calls once the node is known down; RECOVERED the time from clearing the fault to")
	fmt.Fprintln(out, "the first successful call to that node, on the same client.")
	return nil
}

// withClient tags a demo client's records with its fault mode and timeout; nil stays nil.
func withClient(l *slog.Logger, mode string, to time.Duration) *slog.Logger {
	if l == nil {
		return nil
	}
	return l.With("client", fmt.Sprintf("%s/%v", mode, to))
}

func ms(d time.Duration) string {
	if d == 0 {
		return "-"
	}
	return d.Round(100 * time.Microsecond).String()
}

func us(d time.Duration) string {
	if d == 0 {
		return "-"
	}
	return d.Round(time.Microsecond).String()
}

// measureFault runs one client through the fault phase.
func measureFault(ctx context.Context, c *redistest.Cluster, mode string, to time.Duration, healthyKey, faultyKey string, logger *slog.Logger) (scenarioRow, *redline.Client) {
	row := scenarioRow{mode: mode, timeout: to}
	start := time.Now()
	nctx, cancel := context.WithTimeout(ctx, to)
	defer cancel()
	cl, err := redline.NewClient(nctx, redline.Options{
		Addrs: []string{c.Node(0).Addr()}, TLSConfig: c.TLSConfig(), CommandTimeout: to, DialTimeout: to,
		Logger: withClient(logger, mode, to),
	})
	row.newClient = time.Since(start)
	if err != nil {
		row.errText = "NewClient: " + err.Error()
		return row, nil
	}
	cl.Do(ctx, "SET", healthyKey, "v")
	start = time.Now()
	err = cl.Do(ctx, "GET", faultyKey).Err()
	row.faulty = time.Since(start)
	if err != nil {
		row.errText = err.Error()
	}
	// Known down once the background attempt has failed (at DialTimeout at the latest).
	var ne *redline.NodeError
	for until := time.Now().Add(to + 2*time.Second); time.Now().Before(until); time.Sleep(5 * time.Millisecond) {
		if err := cl.Do(ctx, "GET", faultyKey).Err(); errors.As(err, &ne) && ne.Down {
			break
		}
	}
	var fast, lat []time.Duration
	for range 21 {
		s := time.Now()
		cl.Do(ctx, "GET", faultyKey)
		fast = append(fast, time.Since(s))
		s = time.Now()
		cl.Do(ctx, "GET", healthyKey)
		lat = append(lat, time.Since(s))
	}
	slices.Sort(fast)
	slices.Sort(lat)
	row.fastFail, row.healthy = fast[len(fast)/2], lat[len(lat)/2]
	return row, cl
}

// demoUsage is the head of `redline demo --help`.
const demoUsage = `Usage: redline demo [flags]
       redline demo shapes

"redline demo shapes" runs one program (typed calls, a typed pipeline, a transaction, a
subscription) unchanged on a throwaway cluster, standalone server and Sentinel set, then
kills the Sentinel set's primary under writes with deadlines and reports how they fared.


Starts a throwaway local Redis Cluster (4 TLS masters: real redis-server processes on
127.0.0.1, each behind a fault proxy) and runs the "seed scenario": node 0 is healthy
and the client's only seed, nodes 1-3 are made faulty (tls-bad, blackhole, refuse,
hang in turn), with command timeouts of 100ms, 500ms and 1s. It prints what a caller
sees, then stops the cluster and checks no process is left. With -log, the clients'
own log records go to stderr (docs/LOGGING.md shows them).
`
