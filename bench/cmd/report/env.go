package main

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"time"
)

// Env is where and with what the report was produced.
type Env struct {
	Date          string            `json:"date"`
	CPU           string            `json:"cpu"`
	Cores         int               `json:"cores"`
	MemoryMiB     int               `json:"memory_mib"`
	Kernel        string            `json:"kernel"`
	GoVersion     string            `json:"go_version"`
	GOMAXPROCS    int               `json:"gomaxprocs"`
	RedisServer   string            `json:"redis_server"`
	Modules       map[string]string `json:"modules"`
	Command       string            `json:"command"`
	WallTime      string            `json:"wall_time,omitempty"`
	RedlineCommit string            `json:"redline_commit,omitempty"`
}

func collectEnv(ctx context.Context, repo string) Env {
	e := Env{
		Date:       time.Now().UTC().Format("2006-01-02 15:04 MST"),
		Cores:      runtime.NumCPU(),
		GoVersion:  runtime.Version(),
		GOMAXPROCS: runtime.GOMAXPROCS(0),
		Modules:    map[string]string{},
		Command:    "make bench",
	}
	if f, err := os.Open("/proc/cpuinfo"); err == nil {
		s := bufio.NewScanner(f)
		for s.Scan() {
			if k, v, ok := strings.Cut(s.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
				e.CPU = strings.TrimSpace(v)
				break
			}
		}
		f.Close()
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		for line := range strings.SplitSeq(string(b), "\n") {
			if rest, ok := strings.CutPrefix(line, "MemTotal:"); ok {
				kb, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(rest), " kB"))
				e.MemoryMiB = kb / 1024
			}
		}
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		e.Kernel = strings.TrimSpace(string(b))
	}
	e.RedisServer = cmdOutput(ctx, "", "redis-server", "--version")
	if out := cmdOutput(ctx, repo, "git", "rev-parse", "--short", "HEAD"); out != "" {
		e.RedlineCommit = out
		// Changes to the report itself (bench/, docs/) do not count.
		if dirty := cmdOutput(ctx, repo, "git", "status", "--porcelain", "--untracked-files=no", "--", ".", ":!bench", ":!docs"); dirty != "" {
			e.RedlineCommit += " (with uncommitted changes to the library)"
		}
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			v := d.Version
			if d.Replace != nil {
				v += " => " + d.Replace.Path
				if d.Replace.Version != "" {
					v += " " + d.Replace.Version
				}
			}
			switch d.Path {
			case "github.com/redis/go-redis/v9", "github.com/redis/rueidis", "github.com/redline-go/redline":
				e.Modules[d.Path] = v
			}
		}
	}
	return e
}

func cmdOutput(ctx context.Context, dir, name string, args ...string) string {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
}
