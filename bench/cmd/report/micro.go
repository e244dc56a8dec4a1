package main

import (
	"context"
	"os/exec"
	"strings"
	"time"
)

// MicroRun is one in-repo `go test -bench` run, its output kept verbatim.
type MicroRun struct {
	Command string  `json:"command"`
	Output  string  `json:"output"`
	Error   string  `json:"error,omitempty"`
	Seconds float64 `json:"seconds"`
}

// microCommands are the in-repo benchmarks, run from the repository root.
var microCommands = [][]string{
	{"go", "test", "-run=^$", "-bench=.", "-skip=Overshoot|FastFail|TimerBaseline", "-benchmem",
		"./resp/", "./hashslot/", "./internal/conn/", "."},
	{"go", "test", "-run=^$", "-bench=Overshoot|FastFail|TimerBaseline", "-benchtime=1000x", "./internal/node/"},
}

func runMicro(ctx context.Context, repo string) []MicroRun {
	var runs []MicroRun
	for _, args := range microCommands {
		r := MicroRun{Command: shellQuote(args)}
		cctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
		cmd := exec.CommandContext(cctx, args[0], args[1:]...)
		cmd.Dir = repo
		start := time.Now()
		out, err := cmd.CombinedOutput()
		cancel()
		r.Seconds = time.Since(start).Seconds()
		r.Output = strings.TrimRight(string(out), "\n")
		if err != nil {
			r.Error = err.Error()
		}
		runs = append(runs, r)
	}
	return runs
}

// shellQuote prints args as one would type them in a shell.
func shellQuote(args []string) string {
	var b strings.Builder
	for i, a := range args {
		if i > 0 {
			b.WriteByte(' ')
		}
		if strings.ContainsAny(a, "^$|*?[] ") {
			b.WriteString("'" + strings.ReplaceAll(a, "'", `'\''`) + "'")
			continue
		}
		b.WriteString(a)
	}
	return b.String()
}
