package main

import (
	"context"
	"encoding/csv"
	"fmt"
	"net"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// RBRun is one redis-benchmark invocation and what it printed for each test.
type RBRun struct {
	Command  string   `json:"command"`
	Pipeline int      `json:"pipeline"`
	Results  []RBLine `json:"results"`
	Output   string   `json:"output,omitempty"`
	Error    string   `json:"error,omitempty"`
	Seconds  float64  `json:"seconds"`
}

// RBLine is one CSV row of redis-benchmark.
type RBLine struct {
	Test  string  `json:"test"`
	RPS   float64 `json:"rps"`
	AvgMS float64 `json:"avg_ms"`
	P50MS float64 `json:"p50_ms"`
	P99MS float64 `json:"p99_ms"`
	MaxMS float64 `json:"max_ms"`
}

// runRedisBenchmark runs redis-benchmark in cluster mode against seed, GET and SET of
// 16-byte values over 10,000 random keys: one connection (the round trip), 50
// connections, and 50 connections with 16 commands per round trip.
func runRedisBenchmark(ctx context.Context, seed string, keys int) []RBRun {
	host, port, _ := net.SplitHostPort(seed)
	var runs []RBRun
	for _, p := range []struct{ pipeline, n, c int }{{1, 10000, 1}, {1, 150000, 50}, {16, 1000000, 50}} {
		args := []string{"--cluster", "-h", host, "-p", port, "-t", "set,get", "-d", "16",
			"-r", strconv.Itoa(keys), "-n", strconv.Itoa(p.n), "-c", strconv.Itoa(p.c), "--csv"}
		if p.pipeline > 1 {
			args = append(args, "-P", strconv.Itoa(p.pipeline))
		}
		run := RBRun{Command: "redis-benchmark " + strings.Join(args, " "), Pipeline: p.pipeline}
		cctx, cancel := context.WithTimeout(ctx, 60*time.Second)
		start := time.Now()
		out, err := exec.CommandContext(cctx, "redis-benchmark", args...).CombinedOutput()
		cancel()
		run.Seconds = time.Since(start).Seconds()
		if err != nil {
			run.Error = err.Error()
			run.Output = string(out)
		}
		run.Results = parseRBCSV(string(out))
		if len(run.Results) == 0 && run.Output == "" {
			run.Output = string(out)
		}
		runs = append(runs, run)
	}
	return runs
}

// parseRBCSV reads the rows of redis-benchmark --csv:
// "test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms","p95_latency_ms","p99_latency_ms","max_latency_ms"
func parseRBCSV(out string) []RBLine {
	var res []RBLine
	for line := range strings.SplitSeq(out, "\n") {
		line = strings.TrimSpace(line)
		if !strings.HasPrefix(line, `"`) || strings.HasPrefix(line, `"test"`) {
			continue
		}
		rec, err := csv.NewReader(strings.NewReader(line)).Read()
		if err != nil || len(rec) < 8 {
			continue
		}
		f := func(i int) float64 { v, _ := strconv.ParseFloat(rec[i], 64); return v }
		res = append(res, RBLine{Test: rec[0], RPS: f(1), AvgMS: f(2), P50MS: f(4), P99MS: f(6), MaxMS: f(7)})
	}
	return res
}

func (r RBRun) String() string { return fmt.Sprintf("%s: %v", r.Command, r.Results) }
