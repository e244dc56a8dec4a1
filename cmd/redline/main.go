// Command redline is the command-line companion of the redline Redis Cluster client.
//
// Usage:
//
//	redline demo [flags]    the seed scenario on a throwaway local cluster
//
// Run `redline help` for the list of subcommands and `redline demo -h` for its flags.
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
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run dispatches to a subcommand and returns the process exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return exitUsage
	}
	switch args[0] {
	case "demo":
		return runDemo(ctx, args[1:], stdout, stderr)
	case "help", "-h", "-help", "--help":
		usage(stdout)
		return 0
	default:
		fmt.Fprintf(stderr, "redline: unknown subcommand %q\n\n", args[0])
		usage(stderr)
		return exitUsage
	}
}

func usage(w io.Writer) {
	fmt.Fprint(w, `redline — a Redis Cluster client that keeps its deadlines.

Usage:
  redline demo [flags]    on a throwaway local TLS cluster (real redis-server processes),
                          show what callers see while nodes fail: the seed scenario

Run 'redline <subcommand> -h' for a subcommand's flags.
`)
}
