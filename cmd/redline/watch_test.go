package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/redline-go/redline/redistest"
)

// TestProbeWatchFailover drives `probe --watch` in a real terminal (tmux) through a
// master failover: the view shows the killed master down, and its replica promoted,
// each within 2 s of the event, and quits on q.
func TestProbeWatchFailover(t *testing.T) {
	term := newTerminal(t)
	bin := buildCLI(t)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Second)
	defer cancel()
	cl, err := redistest.Start(ctx, redistest.Config{Masters: 3, ReplicasPerMaster: 1, NodeTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	topo, err := cl.Topology(ctx)
	if err != nil {
		t.Fatal(err)
	}
	master := topo.Masters()[0].Node
	replica := topo.ReplicasOf(master.ID())[0].Node

	cmd, after := term.wrapped(fmt.Sprintf("%s probe --watch -c %s --interval 250ms --timeout 300ms", bin, strings.Join(cl.Addrs(), ",")))
	start := func() { t.Helper(); term.start("w", cmd) }
	// quit types keys and waits for the view to exit with status 0, the terminal
	// restored.
	quit := func(keys string) {
		t.Helper()
		os.Remove(after)
		term.keys("w", keys)
		term.waitExit("w", 2*time.Second)
		checkRestored(t, after, keys)
	}
	start()
	// rowOf returns the ROLE and STATE of addr's row in the view, "" when not shown.
	rowOf := func(addr string) (role, state string) {
		for _, line := range strings.Split(term.screen("w"), "\n") {
			if f := strings.Fields(line); len(f) >= 3 && f[0] == addr {
				return f[1], f[2]
			}
		}
		return "", ""
	}
	screen := func() string { return term.screen("w") }
	waitFor(t, 10*time.Second, "view with every node up", nil, func() bool {
		for _, n := range cl.Nodes() {
			if _, state := rowOf(n.Addr()); state != "up" {
				return false
			}
		}
		return true
	})

	// Watch the replica's own view of its role, to time the promotion.
	promoted := make(chan time.Time, 1)
	go func() {
		for ctx.Err() == nil {
			if r, err := replica.Role(ctx); err == nil && r == "master" {
				promoted <- time.Now()
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
	}()
	killed := time.Now()
	if err := master.Kill(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 2*time.Second, "killed master shown down", nil, func() bool {
		_, state := rowOf(master.Addr())
		return state == "down"
	})
	t.Logf("master shown down %v after the kill", time.Since(killed).Round(time.Millisecond))
	var at time.Time
	select {
	case at = <-promoted:
	case <-ctx.Done():
		t.Fatalf("the replica was not promoted:\n%s", screen())
	}
	waitFor(t, 2*time.Second+time.Until(at), "promoted replica shown primary", nil, func() bool {
		role, state := rowOf(replica.Addr())
		return role == "primary" && state == "up"
	})
	t.Logf("promotion %v after the kill, shown %v after it", at.Sub(killed).Round(time.Millisecond), time.Since(at).Round(time.Millisecond))
	t.Logf("the view after the failover:\n%s", strings.TrimRight(screen(), "\n"))
	if s := screen(); !strings.Contains(s, replica.Addr()+"  role replica → primary") || !strings.Contains(s, master.Addr()+"  state up → down") {
		t.Errorf("the change log does not show the failover:\n%s", s)
	}

	// q quits, and so does Ctrl-C, restoring the terminal.
	quit("q")
	start()
	waitFor(t, 5*time.Second, "view again", nil, func() bool { role, _ := rowOf(replica.Addr()); return role == "primary" })
	quit("C-c")
}

// TestProbeWatchJSON: not on a terminal, --watch writes one JSON object per round.
func TestProbeWatchJSON(t *testing.T) {
	plain, _, _ := testClusters(t)
	code, out, errs := cli(t, "", "probe", "--watch", "-c", plain.Node(0).Addr(), "--interval", "100ms", "--count", "3")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if code != 0 || len(lines) != 3 {
		t.Fatalf("exit %d, %d lines, want 3\n%s%s", code, len(lines), out, errs)
	}
	for _, l := range lines {
		var rep probeReport
		if err := json.Unmarshal([]byte(l), &rep); err != nil || rep.Time == "" || len(rep.Nodes) != 3 {
			t.Fatalf("round: %v %q", err, l)
		}
		for _, n := range rep.Nodes {
			if n.P50Millis <= 0 || n.P99Millis < n.P50Millis || n.Memory == "" || n.Clients == "" {
				t.Errorf("%s: p50 %v p99 %v memory %q clients %q", n.Addr, n.P50Millis, n.P99Millis, n.Memory, n.Clients)
			}
		}
	}
}
