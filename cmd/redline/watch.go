package main

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"strings"
	"time"

	"github.com/redline-go/redline/internal/topology"
)

// watchFlags are probe's --watch flags.
type watchFlags struct {
	watch    bool
	interval time.Duration
	count    int
}

func (w *watchFlags) register(fs *flag.FlagSet) {
	fs.BoolVar(&w.watch, "watch", false, "a live view, refreshed every --interval (q or Ctrl-C quits); JSON lines when the output is not a terminal")
	fs.DurationVar(&w.interval, "interval", time.Second, "refresh `period` of --watch")
	fs.IntVar(&w.count, "count", 0, "with --watch, stop after this many `rounds` (0: until q or Ctrl-C)")
}

// watchPings is how many PINGs each node gets per round; watchWindow how many recent
// samples the percentiles cover.
const (
	watchPings  = 5
	watchWindow = 100
	watchEvents = 10
	// watchHighlight is how long a changed cell stays highlighted.
	watchHighlight = 3 * time.Second
)

// watcher keeps what the live view remembers between rounds.
type watcher struct {
	f       *connFlags
	tls     *tls.Config
	seeds   []string               // the flags' seeds, then every node seen
	samples map[string][]float64   // recent PING round trips per node, ms
	prev    map[string][]string    // last frame's cells per node
	since   map[string][]time.Time // when each cell last changed
	role    map[string]string      // last round's role and state per node
	state   map[string]string
	events  []string // recent role and state changes, newest last
	last    map[string]opsMark
}

// opsMark is a node's command count at one round, for the next round's ops/s.
type opsMark struct {
	commands int64
	at       time.Time
}

// runWatch runs probe rounds every w.interval until ctx is done, q is typed (on a
// terminal) or w.count rounds ran. On a terminal it redraws a table in place; else,
// or with --json, it writes one JSON object per round.
func runWatch(ctx context.Context, f *connFlags, tlsConf *tls.Config, w watchFlags, stdin io.Reader, stdout, stderr io.Writer) int {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	tty := isTerminal(stdout) && !f.json
	if tty && isTerminal(stdin) {
		if restore := cbreak(stdin.(*os.File)); restore != nil {
			defer restore()
		}
		go func() { // q quits
			b := make([]byte, 1)
			for {
				n, err := stdin.Read(b)
				if err != nil || (n == 1 && (b[0] == 'q' || b[0] == 'Q')) {
					cancel()
					return
				}
			}
		}()
	}
	if tty {
		fmt.Fprint(stdout, "\x1b[?25l\x1b[H\x1b[2J") // hide the cursor, clear
		defer fmt.Fprint(stdout, "\x1b[?25h")
	}
	wt := &watcher{f: f, tls: tlsConf, seeds: f.seeds(), samples: map[string][]float64{},
		last: map[string]opsMark{}, prev: map[string][]string{}, since: map[string][]time.Time{}, role: map[string]string{}, state: map[string]string{}}
	tick := time.NewTicker(w.interval)
	defer tick.Stop()
	for round := 1; ; round++ {
		start := time.Now()
		rep := wt.round(ctx)
		if ctx.Err() != nil {
			break
		}
		if tty {
			wt.draw(stdout, rep, start, w.interval)
		} else {
			rep.Time = start.UTC().Format(time.RFC3339Nano)
			b, _ := json.Marshal(rep)
			fmt.Fprintf(stdout, "%s\n", b)
		}
		if w.count > 0 && round >= w.count {
			break
		}
		select {
		case <-ctx.Done():
		case <-tick.C:
		}
		if ctx.Err() != nil {
			break
		}
	}
	if tty {
		fmt.Fprintln(stdout)
	}
	return 0
}

// round runs one probe and updates the latency windows, the seeds and the events.
func (wt *watcher) round(ctx context.Context) probeReport {
	rep := probe(ctx, wt.f, wt.tls, wt.seeds, watchPings)
	now := time.Now().Format("15:04:05")
	for i := range rep.Nodes {
		r := &rep.Nodes[i]
		if !slices.Contains(wt.seeds, r.Addr) {
			wt.seeds = append(wt.seeds, r.Addr)
		}
		s := append(wt.samples[r.Addr], r.PingSamples...)
		if len(s) > watchWindow {
			s = s[len(s)-watchWindow:]
		}
		wt.samples[r.Addr] = s
		if len(s) > 0 && r.Ping == "ok" {
			r.P50Millis, r.P99Millis = percentile(s, 0.50), percentile(s, 0.99)
		}
		wt.opsPerSec(r)
		state := nodeState(r)
		if old, ok := wt.state[r.Addr]; ok && old != state {
			wt.event(fmt.Sprintf("%s  %s  state %s → %s", now, r.Addr, old, state))
		}
		if old, ok := wt.role[r.Addr]; ok && old != r.Role {
			wt.event(fmt.Sprintf("%s  %s  role %s → %s", now, r.Addr, old, r.Role))
		}
		wt.state[r.Addr], wt.role[r.Addr] = state, r.Role
	}
	return rep
}

// opsPerSec sets r.OpsPerSec: the commands the node ran since the last round, less
// the probe's own (between two INFOs: the first INFO, the topology fetches, the next
// round's handshake and PINGs), per second; unknown on the first round.
func (wt *watcher) opsPerSec(r *nodeReport) {
	prev, ok := wt.last[r.Addr]
	if r.commands < 0 {
		delete(wt.last, r.Addr)
		return
	}
	wt.last[r.Addr] = opsMark{r.commands, r.infoAt}
	if !ok {
		return
	}
	dt := r.infoAt.Sub(prev.at).Seconds()
	if dt <= 0 {
		return
	}
	ops := float64(r.commands-prev.commands-int64(r.own)) / dt
	r.OpsPerSec = fmt.Sprintf("%.0f", max(ops, 0))
}

// event records a change for the view's log.
func (wt *watcher) event(e string) {
	wt.events = append(wt.events, e)
	if len(wt.events) > watchEvents {
		wt.events = wt.events[len(wt.events)-watchEvents:]
	}
}

// nodeState sums a node up in a word: up, down (unreachable), failed (the cluster
// says so), tls/auth FAIL.
func nodeState(r *nodeReport) string {
	switch {
	case r.TCPError != "":
		return "down"
	case r.TLS != "ok" && r.TLS != "off":
		return "tls FAIL"
	case r.Auth != "ok" && (strings.Contains(r.Auth, "WRONGPASS") || strings.Contains(r.Auth, "NOAUTH") || strings.Contains(r.Auth, "NOPERM")):
		return "auth FAIL"
	case r.Auth != "ok" || (r.Ping != "ok" && r.Ping != notPermitted):
		return "down"
	case r.MarkedFailed:
		return "failed"
	}
	return "up"
}

// percentile returns the q-quantile of s (nearest rank).
func percentile(s []float64, q float64) float64 {
	c := slices.Clone(s)
	slices.Sort(c)
	i := int(q*float64(len(c))+0.5) - 1
	return c[min(max(i, 0), len(c)-1)]
}

// draw redraws the view in place; cells that changed since the last frame are in
// reverse video.
func (wt *watcher) draw(w io.Writer, rep probeReport, at time.Time, every time.Duration) {
	var b strings.Builder
	b.WriteString("\x1b[H")
	line := func(format string, a ...any) {
		fmt.Fprintf(&b, format, a...)
		b.WriteString("\x1b[K\n")
	}
	line("redline probe --watch   %s   every %v   (q or Ctrl-C to quit)", at.Format("15:04:05"), every)
	if rep.Seed == "" {
		line("No topology: no seed answered.")
	} else {
		line("Topology from %s: %s, %d of 16384 slots served.", rep.Seed, plural(len(rep.Nodes), "node"), rep.Covered)
	}
	line("")
	header := []string{"NODE", "ROLE", "STATE", "SLOTS", "OPS/S", "P50", "P99", "MEM", "CLIENTS", "LAG", "SLOT MAP"}
	rows := [][]string{header}
	hl := [][]bool{make([]bool, len(header))}
	nodes := sortedNodes(rep.Nodes)
	for i := range nodes {
		r := &nodes[i]
		row := []string{r.Addr, r.Role, nodeState(r), r.Slots, dash(r.OpsPerSec), msText(r.P50Millis), msText(r.P99Millis),
			dash(r.Memory), dash(r.Clients), lagText(r), slotMapText(r)}
		switch r.Ping {
		case "ok":
		case notPermitted:
			row[5], row[6] = notPermitted, notPermitted
		default: // no PING this round: older samples would not say how it is now
			row[5], row[6] = "-", "-"
		}
		changed := make([]bool, len(row))
		since := wt.since[r.Addr]
		if since == nil {
			since = make([]time.Time, len(row))
			wt.since[r.Addr] = since
		}
		if old := wt.prev[r.Addr]; old != nil {
			for c := range row {
				// Counters move all the time: only the other columns are highlighted,
				// for watchHighlight after they change.
				if old[c] != row[c] && (c < 4 || c > 8) {
					since[c] = at
				}
				changed[c] = !since[c].IsZero() && at.Sub(since[c]) < watchHighlight
			}
		}
		wt.prev[r.Addr] = row
		rows = append(rows, row)
		hl = append(hl, changed)
	}
	if rep.Seed != "" {
		for _, l := range renderTable(rows, hl) {
			line("%s", l)
		}
	}
	var problems []string
	problems = append(problems, rep.Problems...)
	for _, r := range nodes {
		for _, p := range r.Problems {
			problems = append(problems, r.Addr+": "+p)
		}
	}
	line("")
	if len(problems) == 0 {
		line("No problems.")
	} else {
		line("Problems:")
		for _, p := range problems {
			line("  - %s", p)
		}
	}
	if len(wt.events) > 0 {
		line("")
		line("Changes:")
		for _, e := range wt.events {
			line("  %s", e)
		}
	}
	b.WriteString("\x1b[J") // clear what the last frame had below
	io.WriteString(w, b.String())
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func msText(v float64) string {
	if v == 0 {
		return "-"
	}
	return fmt.Sprintf("%.2fms", v)
}

// lagText is the LAG column: a replica's lag, "not permitted", or "-".
func lagText(r *nodeReport) string {
	switch {
	case r.LagBytes != nil:
		return fmt.Sprintf("%dB", *r.LagBytes)
	case r.Role == topology.RoleReplica.String() && hasRefused(*r, "INFO"):
		return notPermitted
	}
	return "-"
}

// slotMapText is the SLOT MAP column.
func slotMapText(r *nodeReport) string {
	switch r.SlotMap {
	case "agrees", "DIFFERS", notPermitted:
		return r.SlotMap
	case "not tried":
		return "-"
	}
	return "FAIL"
}

// renderTable aligns rows in columns two spaces apart; a highlighted cell is in
// reverse video (the escapes are added after padding, so they do not upset it).
func renderTable(rows [][]string, hl [][]bool) []string {
	var width []int
	for _, row := range rows {
		for c, cell := range row {
			if c >= len(width) {
				width = append(width, 0)
			}
			width[c] = max(width[c], len([]rune(cell)))
		}
	}
	out := make([]string, len(rows))
	for i, row := range rows {
		var b strings.Builder
		for c, cell := range row {
			pad := strings.Repeat(" ", width[c]-len([]rune(cell)))
			if hl[i][c] {
				b.WriteString("\x1b[7m" + cell + "\x1b[0m" + pad)
			} else {
				b.WriteString(cell + pad)
			}
			if c < len(row)-1 {
				b.WriteString("  ")
			}
		}
		out[i] = strings.TrimRight(b.String(), " ")
	}
	return out
}

// cbreak puts the terminal in character mode without echo (so q is read at once) and
// returns what restores it; nil when stty is not there.
func cbreak(tty *os.File) func() {
	get := exec.Command("stty", "-g")
	get.Stdin = tty
	saved, err := get.Output()
	if err != nil {
		return nil
	}
	set := exec.Command("stty", "-icanon", "-echo", "min", "1")
	set.Stdin = tty
	if set.Run() != nil {
		return nil
	}
	return func() {
		restore := exec.Command("stty", strings.TrimSpace(string(saved)))
		restore.Stdin = tty
		restore.Run()
	}
}
