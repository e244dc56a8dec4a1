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
// Run `redline help` for the list of subcommands and `redline <subcommand> -h` for its
// flags.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// exitUsage is the exit code for bad flags or an unknown subcommand.
const exitUsage = 2

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run dispatches to a subcommand and returns the process exit code.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		switch args[0] {
		case "demo":
			return runDemo(ctx, args[1:], stdout, stderr)
		case "probe":
			return runProbe(ctx, args[1:], stdout, stderr)
		case "bench":
			return runBench(ctx, args[1:], stdout, stderr)
		case "help", "-h", "-help", "--help":
			usage(stdout)
			return 0
		case "do":
			args = args[1:]
		}
	}
	var f connFlags
	fs := newDoFlags("redline", &f, stderr)
	if done, code := parseFlags(fs, args); done {
		return code
	}
	return runDo(ctx, &f, fs.Args(), stdin, stdout, stderr)
}

func usage(w io.Writer) {
	fmt.Fprint(w, `redline — a Redis Cluster client that keeps its deadlines.

Usage:
  redline [flags] COMMAND [ARG...]  run a command on the cluster, with full routing
  redline [flags]                   read commands from standard input (a prompt on a terminal)
  redline probe [flags]             check every node: TCP, TLS (the certificate problem
                                    spelled out), auth/HELLO, PING, replication lag, and
                                    whether all nodes agree on the slot map
  redline bench [flags]             throughput and latency percentiles of GET/SET workloads
  redline demo [flags]              on a throwaway local TLS cluster (real redis-server
                                    processes), show what callers see while nodes fail

Run 'redline <subcommand> -h' for a subcommand's flags ('redline do -h' for the command flags).
`)
}
