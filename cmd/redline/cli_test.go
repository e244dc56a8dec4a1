package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/redline-go/redline/redistest"
)

// testClusters returns the shared plain 3-master cluster and 3-master TLS cluster
// (redistest.Shared: started once per test binary, stopped by TestMain), with the TLS
// cluster's CA file for -cacert.
func testClusters(t *testing.T) (*redistest.Cluster, *redistest.Cluster, string) {
	t.Helper()
	plain := redistest.Shared(t, "plain", redistest.Config{Masters: 3})
	tls := redistest.Shared(t, "tls", redistest.Config{Masters: 3, TLS: true})
	return plain, tls, tls.Dir() + "/ca.crt"
}

// TestMain runs the tests and stops the shared clusters.
func TestMain(m *testing.M) { redistest.Main(m) }

// cli runs the command line with args and returns exit code, stdout and stderr.
func cli(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	code := run(ctx, args, strings.NewReader(stdin), &out, &errb)
	return code, out.String(), errb.String()
}

func TestDo(t *testing.T) {
	plain, _, _ := testClusters(t)
	seeds := strings.Join(plain.Addrs(), ",")
	if code, out, errs := cli(t, "", "-c", seeds, "SET", "cli:k", "hello world"); code != 0 || out != "OK\n" {
		t.Fatalf("SET: %d %q %q", code, out, errs)
	}
	if code, out, _ := cli(t, "", "-c", seeds, "--no-raw", "GET", "cli:k"); code != 0 || out != "\"hello world\"\n" {
		t.Fatalf("GET: %d %q", code, out)
	}
	if code, out, _ := cli(t, "", "do", "-c", seeds, "-json", "MGET", "cli:k", "cli:missing"); code != 0 {
		t.Fatalf("MGET json: %d %q", code, out)
	} else {
		var got []any
		if err := json.Unmarshal([]byte(out), &got); err != nil || len(got) != 2 || got[0] != "hello world" || got[1] != nil {
			t.Fatalf("MGET json: %q %v", out, err)
		}
	}
	if code, out, _ := cli(t, "", "-c", seeds, "INCR", "cli:k"); code != 1 || !strings.HasPrefix(out, "(error) ERR") {
		t.Fatalf("server error: %d %q", code, out)
	}
	// Commands from standard input, with quoting.
	code, out, _ := cli(t, "SET cli:q \"a b\\nc\"\nGET cli:q\nHSET cli:h f 'x y'\nHGETALL cli:h\n", "-c", seeds, "--no-raw")
	if code != 0 || !strings.Contains(out, "\"a b\\nc\"") || !strings.Contains(out, "\"x y\"") {
		t.Fatalf("stdin: %d %q", code, out)
	}
}

func TestBadFlagsAndHelp(t *testing.T) {
	for _, args := range [][]string{
		{"-nosuchflag"}, {"probe", "-nosuchflag"}, {"bench", "-workload", "nope"}, {"bench", "-keys", "0"},
		{"demo", "extra"}, {"probe", "extra"}, {"-read-from", "sideways", "GET", "x"}, {"-cacert", "x.pem", "GET", "x"},
	} {
		if code, _, _ := cli(t, "", args...); code != exitUsage {
			t.Errorf("%v: exit %d, want %d", args, code, exitUsage)
		}
	}
	for _, args := range [][]string{{"help"}, {"probe", "-h"}, {"bench", "-h"}, {"demo", "-h"}, {"do", "-h"}} {
		code, out, errs := cli(t, "", args...)
		if code != 0 || !strings.Contains(out+errs, "Usage") {
			t.Errorf("%v: exit %d, output %q", args, code, out+errs)
		}
	}
}

func TestProbe(t *testing.T) {
	_, tlsCl, ca := testClusters(t)
	seed := tlsCl.Node(0).Addr()
	code, out, errs := cli(t, "", "probe", "-c", seed, "-tls", "-cacert", ca)
	if code != 0 || !strings.Contains(out, "All nodes healthy") {
		t.Fatalf("healthy cluster: exit %d\n%s%s", code, out, errs)
	}
	// A node with a bad certificate and a black-holed node: exit 1, causes named.
	if err := tlsCl.Node(1).SetFault(redistest.TLSBad); err != nil {
		t.Fatal(err)
	}
	defer tlsCl.Node(1).SetFault(redistest.Pass)
	if err := tlsCl.Node(2).SetFault(redistest.Blackhole); err != nil {
		t.Fatal(err)
	}
	defer tlsCl.Node(2).SetFault(redistest.Pass)
	start := time.Now()
	code, out, _ = cli(t, "", "probe", "-c", seed, "-tls", "-cacert", ca, "-timeout", "300ms", "-json")
	if el := time.Since(start); el > 3*time.Second {
		t.Errorf("probe took %v with a black-holed node", el)
	}
	if code != 1 {
		t.Fatalf("faulty cluster: exit %d, want 1\n%s", code, out)
	}
	var rep probeReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("JSON: %v\n%s", err, out)
	}
	byAddr := map[string]nodeReport{}
	for _, n := range rep.Nodes {
		byAddr[n.Addr] = n
	}
	bad := byAddr[tlsCl.Node(1).Addr()]
	if !strings.Contains(bad.TLS, "x509: certificate signed by unknown authority") || bad.Cert == nil || !strings.Contains(bad.Cert.Issuer, "untrusted") {
		t.Errorf("tls-bad node: %+v", bad)
	}
	hole := byAddr[tlsCl.Node(2).Addr()]
	if !strings.Contains(hole.TCPError, "timeout") {
		t.Errorf("black-holed node: %+v", hole)
	}
	if ok := byAddr[tlsCl.Node(0).Addr()]; len(ok.Problems) != 0 || ok.TLS != "ok" || !ok.AgreesMap {
		t.Errorf("healthy node: %+v", ok)
	}
	// The table names the problems too.
	_, text, _ := cli(t, "", "probe", "-c", seed, "-tls", "-cacert", ca, "-timeout", "300ms")
	if !strings.Contains(text, "unknown authority") || !strings.Contains(text, "tcp:") {
		t.Errorf("probe table:\n%s", text)
	}
}

func TestBench(t *testing.T) {
	plain, _, _ := testClusters(t)
	code, out, errs := cli(t, "", "bench", "-c", plain.Node(0).Addr(), "-duration", "500ms", "-keys", "1000", "-concurrency", "8", "-json")
	if code != 0 {
		t.Fatalf("bench: exit %d\n%s%s", code, out, errs)
	}
	var res []benchResult
	if err := json.Unmarshal([]byte(out), &res); err != nil || len(res) != 3 {
		t.Fatalf("JSON: %v\n%s", err, out)
	}
	for _, r := range res {
		if r.Ops == 0 || r.Errors != 0 || r.P50Micros <= 0 || r.P99Micros < r.P50Micros || r.MaxMicros < r.P99Micros {
			t.Errorf("%s: %+v", r.Workload, r)
		}
	}
	code, out, _ = cli(t, "", "bench", "-c", plain.Node(0).Addr(), "-duration", "300ms", "-workload", "mixed")
	if code != 0 || !strings.Contains(out, "OPS/S") || !strings.Contains(out, "mixed") {
		t.Fatalf("bench table: %d\n%s", code, out)
	}
}

func TestHistogram(t *testing.T) {
	var h histogram
	for i := 1; i <= 10000; i++ {
		h.record(time.Duration(i) * time.Microsecond)
	}
	for _, c := range []struct {
		q    float64
		want time.Duration
	}{{0.5, 5000 * time.Microsecond}, {0.99, 9900 * time.Microsecond}, {0.999, 9990 * time.Microsecond}} {
		got := h.quantile(c.q)
		if d := got - c.want; d < -c.want/50 || d > c.want/50 {
			t.Errorf("q%v = %v, want %v ±2%%", c.q, got, c.want)
		}
	}
	if h.max != 10*time.Millisecond {
		t.Errorf("max %v", h.max)
	}
}

// TestProbeRefusedTopology: a seed whose ACL user may not run CLUSTER SHARDS is reported
// as the server's refusal, naming the command and the permission needed (probe used to
// fall back to CLUSTER SLOTS on any error reply, which the client does not).
func TestProbeRefusedTopology(t *testing.T) {
	plain, _, _ := testClusters(t)
	n := plain.Node(0)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if v, err := n.Do(ctx, "ACL", "SETUSER", "noshards", "on", ">pw", "~*", "+@all", "-cluster|shards"); err != nil || v.Err != nil {
		t.Fatalf("ACL SETUSER: %v %v", v, err)
	}
	defer n.Do(context.Background(), "ACL", "DELUSER", "noshards")
	code, out, errs := cli(t, "", "probe", "-c", n.Addr(), "-user", "noshards", "-pass", "pw", "-timeout", "2s")
	if code == 0 {
		t.Fatalf("exit 0 with CLUSTER SHARDS refused:\n%s%s", out, errs)
	}
	for _, want := range []string{"refused CLUSTER SHARDS", "NOPERM", "needs cluster|shards"} {
		if !strings.Contains(out+errs, want) {
			t.Errorf("the report does not say %q:\n%s%s", want, out, errs)
		}
	}
}
