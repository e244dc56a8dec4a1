package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redline-go/redline/redistest"
)

// syncBuf is a bytes.Buffer safe for a writer and a reader at once.
type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// cliAsync runs the command line in the background until ctx is done or it returns;
// its exit code arrives on the channel.
func cliAsync(ctx context.Context, stdin string, args ...string) (*syncBuf, *syncBuf, <-chan int) {
	out, errb := &syncBuf{}, &syncBuf{}
	done := make(chan int, 1)
	go func() { done <- run(ctx, args, strings.NewReader(stdin), out, errb) }()
	return out, errb, done
}

// waitFor polls cond every 20ms until it holds or within passes, doing act (if any)
// before each poll: for what has no event to wait on (a line in another process's
// output).
func waitFor(t *testing.T, within time.Duration, what string, act func(), cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		if act != nil {
			act()
		}
		if cond() {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %s within %v", what, within)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// exitWithin waits for the exit code of a background run.
func exitWithin(t *testing.T, done <-chan int, within time.Duration) int {
	t.Helper()
	select {
	case code := <-done:
		return code
	case <-time.After(within):
		t.Fatalf("the command line did not exit within %v", within)
		return -1
	}
}

// TestRedisCLIUser drives the CLI as a redis-cli user would, on a real cluster: -h -p,
// --raw INFO, --all-nodes INFO keyspace, SUBSCRIBE, MONITOR, a here-doc with SUBSCRIBE
// in it, and bad flags.
func TestRedisCLIUser(t *testing.T) {
	plain, _, _ := testClusters(t)
	host, port, _ := net.SplitHostPort(plain.Node(0).Addr())

	// -h -p, raw output since the output is not a terminal.
	if code, out, errs := cli(t, "", "-h", host, "-p", port, "SET", "cli:user", "v 1"); code != 0 || out != "OK\n" {
		t.Fatalf("SET: %d %q %q", code, out, errs)
	}
	if code, out, errs := cli(t, "", "-c", "-h", host, "-p", port, "GET", "cli:user"); code != 0 || out != "v 1\n" {
		t.Fatalf("-c -h -p GET: %d %q %q", code, out, errs)
	}
	if code, out, _ := cli(t, "", "-u", "redis://"+plain.Node(1).Addr()+"/0", "--no-raw", "GET", "cli:user"); code != 0 || out != "\"v 1\"\n" {
		t.Fatalf("-u --no-raw GET: %d %q", code, out)
	}

	// INFO prints as text, raw or not: one field a line, no escapes.
	for _, mode := range []string{"--raw", "--no-raw"} {
		code, out, _ := cli(t, "", "-h", host, "-p", port, mode, "INFO")
		if code != 0 || !strings.Contains(out, "# Server\n") || !strings.Contains(out, "\nredis_version:") || strings.Contains(out, `\r\n`) {
			t.Fatalf("%s INFO: %d %.300q", mode, code, out)
		}
	}

	// --all-nodes INFO keyspace: a row per node; the keys sum to the cluster's count.
	for i := range 30 {
		if code, _, errs := cli(t, "", "-h", host, "-p", port, "SET", fmt.Sprintf("cli:user:%d", i), "x"); code != 0 {
			t.Fatalf("SET: %s", errs)
		}
	}
	code, out, errs := cli(t, "", "-h", host, "-p", port, "DBSIZE")
	total, err := strconv.Atoi(strings.TrimSpace(out))
	if code != 0 || err != nil || total < 31 {
		t.Fatalf("DBSIZE: %d %q %q", code, out, errs)
	}
	code, out, errs = cli(t, "", "-h", host, "-p", port, "--all-nodes", "--json", "INFO", "keyspace")
	var nodes []nodeJSON
	if err := json.Unmarshal([]byte(out), &nodes); code != 0 || err != nil || len(nodes) != len(plain.Nodes()) {
		t.Fatalf("--all-nodes --json INFO keyspace: %d %v %q %q", code, err, out, errs)
	}
	sum := 0
	for _, n := range nodes {
		k, _ := strconv.Atoi(n.Fields["db0.keys"])
		sum += k
	}
	if sum != total {
		t.Errorf("INFO keyspace sums to %d keys over %d nodes, DBSIZE says %d:\n%s", sum, len(nodes), total, out)
	}
	code, out, _ = cli(t, "", "-h", host, "-p", port, "--all-nodes", "INFO", "keyspace")
	if code != 0 || !strings.Contains(out, "db0.keys") || !strings.Contains(out, fmt.Sprintf("sum (%d nodes)", len(nodes))) ||
		!strings.Contains(out, strconv.Itoa(total)) {
		t.Errorf("--all-nodes INFO keyspace table:\n%s", out)
	}

	// SUBSCRIBE receives a PUBLISH, until canceled (Ctrl-C): exit 0.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	sctx, stop := context.WithCancel(ctx)
	sout, serr, sdone := cliAsync(sctx, "", "-h", host, "-p", port, "SUBSCRIBE", "cli:ch")
	waitFor(t, 5*time.Second, "message on SUBSCRIBE", func() {
		plain.Node(2).Do(ctx, "PUBLISH", "cli:ch", "hello subscriber")
	}, func() bool { return strings.Contains(sout.String(), "message\ncli:ch\nhello subscriber\n") })
	stop()
	if code := exitWithin(t, sdone, 2*time.Second); code != 0 {
		t.Errorf("SUBSCRIBE ended by Ctrl-C: exit %d, stderr %q", code, serr.String())
	}

	// SSUBSCRIBE: the shard channel's messages, from its slot's primary.
	sctx, stop = context.WithCancel(ctx)
	sout, serr, sdone = cliAsync(sctx, "", "-h", host, "-p", port, "--json", "SSUBSCRIBE", "cli:{shard}")
	waitFor(t, 5*time.Second, "message on SSUBSCRIBE", func() {
		cli(t, "", "-h", host, "-p", port, "SPUBLISH", "cli:{shard}", "sharded hello")
	}, func() bool {
		return strings.Contains(sout.String(), `{"kind":"smessage","channel":"cli:{shard}","payload":"sharded hello"}`)
	})
	stop()
	if code := exitWithin(t, sdone, 2*time.Second); code != 0 {
		t.Errorf("SSUBSCRIBE ended by Ctrl-C: exit %d, stderr %q", code, serr.String())
	}

	// MONITOR on one node shows another client's command, tagged with the node.
	target := plain.Node(1)
	mctx, mstop := context.WithCancel(ctx)
	mout, merr, mdone := cliAsync(mctx, "", "-h", host, "-p", port, "--node", target.Addr(), "MONITOR")
	waitFor(t, 5*time.Second, "command in MONITOR's output", func() {
		target.Do(ctx, "ECHO", "cli-monitor-marker")
	}, func() bool {
		return strings.Contains(mout.String(), target.Addr()+" ") && strings.Contains(mout.String(), `"ECHO" "cli-monitor-marker"`)
	})
	mstop()
	if code := exitWithin(t, mdone, 2*time.Second); code != 0 {
		t.Errorf("MONITOR ended by Ctrl-C: exit %d, stderr %q", code, merr.String())
	}

	// A here-doc with SUBSCRIBE: Ctrl-C ends the subscription only, and the commands
	// after it run and print their own replies.
	hout, herr, hdone := cliAsync(ctx, "GET cli:user\nSUBSCRIBE cli:ch2\nGET cli:user\nDBSIZE\n", "-h", host, "-p", port)
	waitFor(t, 5*time.Second, "message in the here-doc", func() {
		plain.Node(0).Do(ctx, "PUBLISH", "cli:ch2", "in here-doc")
	}, func() bool { return strings.Contains(hout.String(), "in here-doc\n") })
	sigint.interrupt()
	if code := exitWithin(t, hdone, 5*time.Second); code != 0 {
		t.Fatalf("here-doc: exit %d, stderr %q", code, herr.String())
	}
	got := hout.String()
	rest := got[strings.LastIndex(got, "in here-doc\n")+len("in here-doc\n"):]
	if !strings.HasPrefix(got, "v 1\n") || rest != fmt.Sprintf("v 1\n%d\n", total) {
		t.Errorf("here-doc output:\n%s", got)
	}
}

// TestUsageAndRuntimeErrors: a bad flag is one line on stderr and exit 2; an
// unreachable seed one line and exit 1, naming itself once.
func TestUsageAndRuntimeErrors(t *testing.T) {
	for _, args := range [][]string{
		{"--nosuch", "GET", "k"}, {"-p", "notaport", "GET", "k"}, {"-p", "70000", "GET", "k"}, {"-n", "-1", "GET", "k"}, {"-u", "redis://h?nope=1", "GET", "k"},
		{"-r", "0", "GET", "k"}, {"--node", "127.0.0.1:1", "--all-nodes", "INFO"}, {"-u", "http://x:1", "GET", "k"},
		{"--cert", "c.pem", "GET", "k"}, {"--raw", "--no-raw", "GET", "k"}, {"probe", "--nosuch"}, {"bench", "--keys", "0"},
		{"demo", "--nosuch"},
	} {
		code, out, errs := cli(t, "", args...)
		if code != exitUsage || out != "" || strings.Count(errs, "\n") != 1 || !strings.HasPrefix(errs, "redline") {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want exit 2 and one line on stderr", args, code, out, errs)
		}
	}
	// A closed port: one line, exit 1, "redline:" once.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	code, out, errs := cli(t, "", "-c", addr, "--timeout", "500ms", "GET", "k")
	if code != 1 || out != "" || strings.Count(errs, "\n") != 1 || strings.Count(errs, "redline") != 1 || !strings.Contains(errs, addr) {
		t.Errorf("unreachable seed: exit %d, stdout %q, stderr %q", code, out, errs)
	}
	// --help lists every flag with its default, on stdout, exit 0.
	for _, sub := range []string{"", "probe", "bench", "demo"} {
		args := []string{"--help"}
		if sub != "" {
			args = []string{sub, "--help"}
		}
		code, out, _ := cli(t, "", args...)
		if code != 0 || !strings.Contains(out, "Usage") {
			t.Errorf("%v: exit %d\n%s", args, code, out)
		}
		for _, line := range strings.Split(out[strings.Index(out, "Flags"):], "\n") {
			if strings.HasPrefix(line, "      ") && !strings.Contains(line, "(default ") {
				t.Errorf("%v: a flag without its default: %q", args, line)
			}
		}
	}
	if _, out, _ := cli(t, "", "--help"); !strings.Contains(out, "--all-nodes") || !strings.Contains(out, "-h host") {
		t.Errorf("top-level --help does not list the command flags:\n%s", out)
	}
}

// TestParseRedisURL: -u takes redline.ParseURL's URLs (standalone, cluster seeds,
// Sentinel), its database and credentials, and the flags given beside it win; a bad
// URL is a one-line usage error that never shows the password.
func TestParseRedisURL(t *testing.T) {
	for _, c := range []struct {
		in, extra            string
		addrs                string
		user                 string
		pass, tls            bool
		db                   int
		master               string
		wantErr, errNotShown string
	}{
		{in: "redis://h", addrs: "[h:6379]"},
		{in: "rediss://u:p%40ss@10.0.0.1:7000/0", addrs: "[10.0.0.1:7000]", user: "u", pass: true, tls: true},
		{in: "redis://:secret@[::1]:6380", addrs: "[[::1]:6380]", pass: true},
		{in: "redis://h:1/3", addrs: "[h:1]", db: 3},
		{in: "redis://h:1/3", extra: "-n", addrs: "[h:1]", db: 5},
		{in: "redis://h:7000?addr=h:7001&addr=h:7002", addrs: "[h:7000 h:7001 h:7002]"},
		{in: "redis+sentinel://s1:26379/mymaster?addr=s2:26379", addrs: "[]", master: "mymaster"},
		{in: "http://h", wantErr: "scheme"},
		{in: "redis://u:hunter2@h:99999", wantErr: "port", errNotShown: "hunter2"},
		{in: "redis://h/x", wantErr: "database"},
		{in: "redis://h?nope=1", wantErr: "nope"},
	} {
		var f connFlags
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		f.register(fs)
		args := []string{"-u", c.in}
		if c.extra == "-n" {
			args = append(args, "-n", "5")
		}
		if err := fs.Parse(args); err != nil {
			t.Fatal(err)
		}
		err := f.check(fs)
		if c.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), c.wantErr) || (c.errNotShown != "" && strings.Contains(err.Error(), c.errNotShown)) {
				t.Errorf("%s: error %v, want one about %q", c.in, err, c.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", c.in, err)
			continue
		}
		o, err := f.options()
		if err != nil {
			t.Errorf("%s: options: %v", c.in, err)
			continue
		}
		if fmt.Sprint(o.Addrs) != c.addrs || o.Username != c.user || o.Password.IsZero() == c.pass ||
			(o.TLSConfig != nil) != c.tls || o.DB != c.db || o.Sentinel.MasterName != c.master {
			t.Errorf("%s: Addrs %v user %q password set %v TLS %v DB %d master %q", c.in, o.Addrs, o.Username, !o.Password.IsZero(), o.TLSConfig != nil, o.DB, o.Sentinel.MasterName)
		}
	}
}

// TestAllNodesDeadline: with a black-holed node, --all-nodes returns by the deadline
// with the others' replies and that node's error, exit 1.
func TestAllNodesDeadline(t *testing.T) {
	plain, _, _ := testClusters(t)
	hole := plain.Node(2)
	seed := plain.Node(0).Addr() // the only seed: the black hole is met by the calls
	if err := hole.SetFault(redistest.Blackhole); err != nil {
		t.Fatal(err)
	}
	defer hole.SetFault(redistest.Pass)
	start := time.Now()
	code, out, errs := cli(t, "", "-c", seed, "--timeout", "300ms", "--all-nodes", "DBSIZE")
	el := time.Since(start)
	if code != 1 {
		t.Errorf("exit %d, want 1\n%s%s", code, out, errs)
	}
	if el > 2*time.Second {
		t.Errorf("took %v with a black-holed node and --timeout 300ms", el)
	}
	var holeRow string
	ok := 0
	for _, line := range strings.Split(out, "\n") {
		switch f := strings.Fields(line); {
		case len(f) > 0 && f[0] == hole.Addr():
			holeRow = line
		case len(f) == 3 && f[1] == "primary":
			ok++
		}
	}
	t.Logf("%v:\n%s", el, out)
	if ok != 2 || !strings.Contains(holeRow, hole.Addr()) || !strings.Contains(out, "ERROR") {
		t.Errorf("want two answers and the black-holed node's error:\n%s", out)
	}
}

// TestTLSFlags: --tls --cacert, rediss:// URLs, and --sni naming the certificate to
// verify (the test certificates name localhost and 127.0.0.1), for commands and probe.
func TestTLSFlags(t *testing.T) {
	_, tlsCl, ca := testClusters(t)
	addr := tlsCl.Node(0).Addr()
	for _, args := range [][]string{
		{"-c", addr, "--tls", "--cacert", ca, "PING"},
		{"-u", "rediss://" + addr, "--cacert", ca, "PING"},
		{"-c", addr, "--tls", "--cacert", ca, "--sni", "localhost", "PING"},
	} {
		if code, out, errs := cli(t, "", args...); code != 0 || out != "PONG\n" {
			t.Errorf("%v: exit %d %q %q", args, code, out, errs)
		}
	}
	code, out, errs := cli(t, "", "-c", addr, "--tls", "--cacert", ca, "--sni", "other.invalid", "--timeout", "500ms", "PING")
	if code != 1 || out != "" || !strings.Contains(errs, "other.invalid") || strings.Count(errs, "\n") != 1 {
		t.Errorf("--sni other.invalid: exit %d %q %q, want exit 1 and one line naming the name", code, out, errs)
	}
	code, out, _ = cli(t, "", "probe", "-c", addr, "--tls", "--cacert", ca, "--sni", "localhost")
	if code != 0 || !strings.Contains(out, "All nodes healthy") {
		t.Errorf("probe --sni localhost: exit %d\n%s", code, out)
	}
	code, out, _ = cli(t, "", "probe", "-c", addr, "--tls", "--cacert", ca, "--sni", "other.invalid", "--timeout", "500ms")
	if code != 1 || !strings.Contains(out, "not valid for") {
		t.Errorf("probe --sni other.invalid: exit %d\n%s", code, out)
	}
}
