// Command redline is the command-line companion of the redline Redis Cluster client.
//
// Usage:
//
//	redline [flags] COMMAND [ARG...]   run a command on the cluster (like redis-cli -c)
//	redline [flags]                    read commands from standard input
//	redline probe [flags]              check every node: TCP, TLS, auth, latency, slot map
//	redline bench [flags]              throughput and latency of GET/SET workloads
//	redline demo [flags]               the seed scenario on a throwaway local cluster
//
// Run `redline --help` for the flags of the command mode and the list of subcommands,
// and `redline <subcommand> --help` for a subcommand's flags.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
)

// exitUsage is the exit code for bad flags or an unknown subcommand.
const exitUsage = 2

func main() {
	ctx, cancel := context.WithCancel(context.Background())
	sigint.root = cancel
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		for s := range sigs {
			if s == os.Interrupt {
				sigint.interrupt()
			} else {
				cancel()
			}
		}
	}()
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	signal.Stop(sigs)
	cancel()
	os.Exit(code)
}

// run dispatches to a subcommand and returns the process exit code.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		switch args[0] {
		case "demo":
			return runDemo(ctx, args[1:], stdout, stderr)
		case "probe":
			return runProbe(ctx, args[1:], stdin, stdout, stderr)
		case "bench":
			return runBench(ctx, args[1:], stdout, stderr)
		case "help":
			return runDo(ctx, "redline", []string{"--help"}, stdin, stdout, stderr)
		case "do":
			return runDo(ctx, "redline do", args[1:], stdin, stdout, stderr)
		}
	}
	return runDo(ctx, "redline", args, stdin, stdout, stderr)
}

// topUsage is the head of `redline --help`; the command mode's flags follow it.
const topUsage = `redline — a Redis Cluster client that keeps its deadlines.

Usage:
  redline [flags] COMMAND [ARG...]  run a command on the cluster, with full routing
                                    (redis-cli habits: -h HOST -p PORT -a PASS --tls …)
  redline [flags]                   read commands from standard input: on a terminal, a
                                    prompt with line editing, history (↑/↓, kept in
                                    ~/.redline_history) and Tab completion of command names
  redline do [flags] COMMAND...     the same, spelled out
  redline probe [flags]             check every node: TCP, TLS (the certificate problem
                                    spelled out), auth/HELLO, PING, replication lag, and
                                    whether all nodes agree on the slot map; --watch for
                                    a live view
  redline bench [flags]             throughput and latency percentiles of GET/SET workloads
  redline demo [flags]              on a throwaway local TLS cluster (real redis-server
                                    processes), show what callers see while nodes fail

Run 'redline <subcommand> --help' for a subcommand's flags.

Replies print like redis-cli's: formatted on a terminal, raw (--raw) when the output is
not one; INFO, CLUSTER NODES, CLIENT LIST… print as text. --node, --all-primaries and
--all-nodes run the command on chosen nodes (a table when the replies are numbers or
INFO fields). SUBSCRIBE, PSUBSCRIBE, SSUBSCRIBE and MONITOR print what comes until
Ctrl-C. Exit status: 0 ok, 1 a command or the connection failed, 2 bad usage.
`

// interrupts routes Ctrl-C: it ends the streaming command in progress (SUBSCRIBE,
// MONITOR…) when there is one, so that a session or a here-doc goes on with its next
// command, and else the whole run.
type interrupts struct {
	mu     sync.Mutex
	root   context.CancelFunc // set by main; nil in tests
	stream context.CancelFunc
}

// sigint is the process's Ctrl-C router.
var sigint = &interrupts{}

// streamContext returns a context a Ctrl-C cancels (instead of the whole run) until
// done is called.
func (i *interrupts) streamContext(ctx context.Context) (context.Context, func()) {
	sctx, cancel := context.WithCancel(ctx)
	i.mu.Lock()
	i.stream = cancel
	i.mu.Unlock()
	return sctx, func() {
		i.mu.Lock()
		i.stream = nil
		i.mu.Unlock()
		cancel()
	}
}

// interrupt handles one Ctrl-C.
func (i *interrupts) interrupt() {
	i.mu.Lock()
	defer i.mu.Unlock()
	switch {
	case i.stream != nil:
		i.stream()
		i.stream = nil
	case i.root != nil:
		i.root()
	}
}

// errLine formats err for a one-line message: the library's "redline: " prefixes
// dropped (the CLI names itself once) and lines joined.
func errLine(err error) string {
	s := err.Error()
	s = strings.ReplaceAll(s, "redline: ", "")
	s = strings.ReplaceAll(s, "\n", "; ")
	return s
}

// fail prints "name: err" on stderr and returns code.
func fail(stderr io.Writer, name string, code int, err error) int {
	fmt.Fprintf(stderr, "%s: %s\n", name, errLine(err))
	return code
}
