package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redline-go/redline/internal/conn"
	"github.com/redline-go/redline/internal/topology"
	"github.com/redline-go/redline/resp"
)

// nodeReport is what probe found about one node.
type nodeReport struct {
	Addr       string   `json:"addr"`
	ID         string   `json:"id,omitempty"`
	Role       string   `json:"role"`
	Slots      string   `json:"slots"`
	TCPMillis  float64  `json:"tcp_ms"`
	TCPError   string   `json:"tcp_error,omitempty"`
	TLS        string   `json:"tls"` // "ok", "off", or the problem
	Cert       *certDoc `json:"certificate,omitempty"`
	Auth       string   `json:"auth"` // "ok (RESP3)" or the problem
	Ping       string   `json:"ping"` // "ok", "not permitted", "not tried", or the problem
	PingMillis float64  `json:"ping_ms,omitempty"`
	// PingSamples are the round trips of the PINGs sent (probe --watch sends several).
	PingSamples []float64 `json:"-"`
	// P50Millis and P99Millis are probe --watch's PING latency percentiles over its
	// recent samples.
	P50Millis float64 `json:"ping_p50_ms,omitempty"`
	P99Millis float64 `json:"ping_p99_ms,omitempty"`
	// OpsPerSec (probe --watch) is the node's commands per second since the last
	// round, less the probe's own; Memory and Clients are INFO's used_memory_human and
	// connected_clients ("" when not known).
	OpsPerSec string `json:"ops_per_sec,omitempty"`
	Memory    string `json:"used_memory,omitempty"`
	Clients   string `json:"connected_clients,omitempty"`
	// MarkedFailed is set when the topology flags the node as failed.
	MarkedFailed bool     `json:"marked_failed,omitempty"`
	Offset       *int64   `json:"repl_offset,omitempty"`    // absent when not known
	LagBytes     *int64   `json:"repl_lag_bytes,omitempty"` // replicas; absent when not known
	AgreesMap    bool     `json:"agrees_on_slot_map"`
	SlotMap      string   `json:"slot_map"` // "agrees", "DIFFERS", "not permitted", "not tried", or the problem
	Problems     []string `json:"problems,omitempty"`
	// NotPermitted lists the checks the ACL user may not run, with the server's words:
	// their columns say "not permitted", never a value.
	NotPermitted []string `json:"not_permitted,omitempty"`

	commands int64     // INFO's total_commands_processed, -1 when not known
	infoAt   time.Time // when INFO answered
	own      int       // commands the probe ran on the node (and the server counts)
}

// notPermitted is what a check the ACL user may not run shows.
const notPermitted = "not permitted"

// isNoPerm reports whether e is the server refusing a command to the ACL user.
func isNoPerm(e *resp.Error) bool { return e != nil && e.Code == "NOPERM" }

// certDoc describes the certificate a node presented, when it was rejected.
type certDoc struct {
	Subject   string   `json:"subject"`
	Issuer    string   `json:"issuer"`
	NotBefore string   `json:"not_before"`
	NotAfter  string   `json:"not_after"`
	Names     []string `json:"names"`
}

// probeReport is probe's whole answer.
type probeReport struct {
	Time    string       `json:"time,omitempty"` // probe --watch: when the round started
	Seed    string       `json:"seed"`
	Nodes   []nodeReport `json:"nodes"`
	Covered int          `json:"covered_slots"`
	OK      bool         `json:"ok"`
	// Complete is false when some check was not permitted to the ACL user: OK then
	// covers only the checks that ran.
	Complete bool     `json:"complete"`
	Problems []string `json:"problems,omitempty"`

	seedCommands int // commands run on the seed for the topology
}

func runProbe(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	var f connFlags
	var w watchFlags
	fs := newFlags("redline probe", probeUsage, stdout, stderr)
	f.register(fs.FlagSet)
	w.register(fs.FlagSet)
	if done, code := fs.parse(args); done {
		return code
	}
	if err := f.check(fs.FlagSet); err != nil {
		return fs.usageError("%s", errLine(err))
	}
	if fs.NArg() > 0 {
		return fs.usageError("unexpected argument %q", fs.Arg(0))
	}
	tlsConf, err := f.tlsConfig()
	if err != nil {
		return fs.usageError("%s", errLine(err))
	}
	if w.watch {
		if w.interval < 50*time.Millisecond || w.count < 0 {
			return fs.usageError("--interval must be at least 50ms, --count at least 0")
		}
		return runWatch(ctx, &f, tlsConf, w, stdin, stdout, stderr)
	}
	rep := probe(ctx, &f, tlsConf, f.seeds(), 1)
	if f.json {
		printJSON(stdout, rep)
	} else {
		printProbe(stdout, rep)
	}
	if !rep.OK {
		return 1
	}
	return 0
}

// probe asks the seeds for the topology, then checks every node at once.
// It PINGs each node pings times (the samples are in PingSamples).
func probe(ctx context.Context, f *connFlags, tlsConf *tls.Config, seeds []string, pings int) probeReport {
	rep := probeReport{}
	var table *topology.Table
	var seedErrs []string
	for _, seed := range seeds {
		t, n, err := fetchTable(ctx, f, tlsConf, seed)
		if err == nil {
			table, rep.Seed, rep.seedCommands = t, seed, n
			break
		}
		seedErrs = append(seedErrs, seedProblem(ctx, f, seed, err))
	}
	if table == nil {
		rep.Problems = append(rep.Problems, "no seed gave the topology: "+strings.Join(seedErrs, "; "))
		rep.Complete = true
		return rep
	}
	rep.Covered = table.Covered()
	if rep.Covered < 16384 {
		rep.Problems = append(rep.Problems, fmt.Sprintf("only %d of 16384 slots are served", rep.Covered))
	}
	nodes := table.Nodes()
	rep.Nodes = make([]nodeReport, len(nodes))
	var wg sync.WaitGroup
	for i, n := range nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rep.Nodes[i] = probeNode(ctx, f, tlsConf, table, n, pings)
		}()
	}
	wg.Wait()
	for i := range rep.Nodes {
		if rep.Nodes[i].Addr == rep.Seed {
			rep.Nodes[i].own += rep.seedCommands
		}
	}
	// Replication lag: the primary's offset minus each replica's, when both are known.
	primaryOffset := map[string]*int64{}
	for _, s := range table.Shards() {
		for _, r := range rep.Nodes {
			if r.Addr == s.Primary.Addr {
				primaryOffset[s.Primary.Addr] = r.Offset
			}
		}
	}
	for i := range rep.Nodes {
		r := &rep.Nodes[i]
		for _, s := range table.Shards() {
			for _, rn := range s.Replicas {
				if po := primaryOffset[s.Primary.Addr]; rn.Addr == r.Addr && po != nil && r.Offset != nil {
					lag := max(0, *po-*r.Offset)
					r.LagBytes = &lag
				}
			}
		}
	}
	rep.OK, rep.Complete = len(rep.Problems) == 0, true
	for _, r := range rep.Nodes {
		if len(r.Problems) > 0 {
			rep.OK = false
		}
		if len(r.NotPermitted) > 0 {
			rep.Complete = false
		}
	}
	return rep
}

// fetchTable asks one node for the topology (topology.Fetch: CLUSTER SHARDS, SLOTS on
// servers that do not know SHARDS).
// It also returns how many commands the node ran for it (the handshake's included).
func fetchTable(ctx context.Context, f *connFlags, tlsConf *tls.Config, addr string) (*topology.Table, int, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*f.timeout)
	defer cancel()
	c, err := conn.Dial(ctx, &conn.Options{Addr: addr, TLS: tlsConf, Username: f.user, Password: f.password()})
	if err != nil {
		return nil, 0, err
	}
	defer c.Close()
	n := 1
	t, err := topology.Fetch(ctx, counted(c.Do, &n), addr, tlsConf != nil)
	return t, n, err
}

// counted returns exec counting in *n the commands that ran (a reply that is not an
// error: a refused command is not counted by the server either).
func counted(exec topology.Exec, n *int) topology.Exec {
	return func(ctx context.Context, args ...any) (resp.Value, error) {
		v, err := exec(ctx, args...)
		if err == nil && v.Err == nil {
			*n++
		}
		return v, err
	}
}

// probeNode checks one node, step by step, each step bounded by -timeout.
func probeNode(ctx context.Context, f *connFlags, tlsConf *tls.Config, table *topology.Table, n *topology.Node, pings int) nodeReport {
	r := nodeReport{Addr: n.Addr, ID: n.ID, Role: n.Role.String(), TLS: "off", Ping: "not tried", SlotMap: "not tried", commands: -1}
	for _, s := range table.Shards() {
		if s.Primary.Addr == n.Addr {
			r.Slots = formatRanges(s.Ranges)
		}
	}
	if r.Slots == "" {
		r.Slots = "-"
	}
	if n.Failed() {
		r.MarkedFailed = true
		r.Problems = append(r.Problems, "the cluster marks this node as failed")
	}
	problem := func(format string, a ...any) { r.Problems = append(r.Problems, fmt.Sprintf(format, a...)) }

	// TCP.
	start := time.Now()
	d := net.Dialer{Timeout: f.timeout}
	nc, err := d.DialContext(ctx, "tcp", n.Addr)
	r.TCPMillis = msf(time.Since(start))
	if err != nil {
		r.TCPError = err.Error()
		r.Auth = "not tried"
		if tlsConf != nil {
			r.TLS = "not tried"
		}
		problem("tcp: %v", err)
		return r
	}
	// TLS, with the certificate described when it is rejected.
	if tlsConf != nil {
		conf := tlsConf.Clone()
		if conf.ServerName == "" { // --sni names every node's certificate
			conf.ServerName, _, _ = net.SplitHostPort(n.Addr)
		}
		hctx, cancel := context.WithTimeout(ctx, f.timeout)
		err := tls.Client(nc, conf).HandshakeContext(hctx)
		cancel()
		if err != nil {
			r.TLS = err.Error()
			r.Cert = describeCert(ctx, f, n.Addr)
			r.Auth = "not tried"
			problem("tls: %s", tlsProblem(err))
			nc.Close()
			return r
		}
		r.TLS = "ok"
	}
	nc.Close()
	// Auth / HELLO, then PING and replication.
	cctx, cancel := context.WithTimeout(ctx, f.timeout)
	defer cancel()
	c, err := conn.Dial(cctx, &conn.Options{Addr: n.Addr, TLS: tlsConf, Username: f.user, Password: f.password()})
	if err != nil {
		r.Auth = errLine(err)
		problem("auth/hello: %s", errLine(err))
		return r
	}
	defer c.Close()
	r.Auth = "ok"
	r.own = 1 // the handshake
	refused := func(check string, e *resp.Error) {
		r.NotPermitted = append(r.NotPermitted, check+": "+e.Msg)
	}
	start = time.Now()
	v, err := c.Do(cctx, "PING")
	first := msf(time.Since(start))
	switch {
	case err != nil:
		r.Ping = errLine(err)
		problem("ping: %s", errLine(err))
		return r
	case isNoPerm(v.Err):
		r.Ping = notPermitted
		refused("PING", v.Err)
	case v.Err != nil:
		r.Ping = v.Err.Msg
		problem("ping: %s", v.Err.Msg)
	default:
		r.PingMillis = first
		r.Ping = "ok"
		r.PingSamples = append(r.PingSamples, first)
		for range pings - 1 {
			start = time.Now()
			if v, err := c.Do(cctx, "PING"); err != nil || v.Err != nil {
				break
			}
			r.PingSamples = append(r.PingSamples, msf(time.Since(start)))
		}
		r.own += len(r.PingSamples)
	}
	v, err = c.Do(cctx, "INFO")
	switch {
	case err != nil:
		problem("INFO: %s", errLine(err))
	case isNoPerm(v.Err):
		refused("INFO", v.Err)
	case v.Err != nil:
		problem("INFO: %s", v.Err.Msg)
	default:
		info := parseInfo(string(v.Str))
		r.infoAt = time.Now()
		r.own++ // this INFO, counted from the next one on
		if n, err := strconv.ParseInt(info["total_commands_processed"], 10, 64); err == nil {
			r.commands = n
		}
		r.Memory = info["used_memory_human"]
		r.Clients = info["connected_clients"]
		key := "master_repl_offset"
		if n.Role == topology.RoleReplica {
			key = "slave_repl_offset"
			if info["master_link_status"] != "up" {
				problem("replication link to the primary is %s", info["master_link_status"])
			}
		}
		if off, err := strconv.ParseInt(info[key], 10, 64); err == nil {
			r.Offset = &off
		}
	}
	// The node's own view of the slot map, fetched as the seed's was.
	t, err := topology.Fetch(cctx, counted(c.Do, &r.own), n.Addr, tlsConf != nil)
	var ref *topology.RefusedError
	switch {
	case err == nil:
		r.AgreesMap = t.Equal(table)
		r.SlotMap = "agrees"
		if !r.AgreesMap {
			r.SlotMap = "DIFFERS"
			problem("disagrees with the seed on the slot map")
		}
	case errors.As(err, &ref) && isNoPerm(ref.Err):
		r.SlotMap = notPermitted
		refused(ref.Command, ref.Err)
	default:
		r.SlotMap = errLine(err)
		problem("slot map: %s", errLine(err))
	}
	return r
}

// describeCert fetches the certificate a node presents without verifying it, to say
// what is wrong with it.
func describeCert(ctx context.Context, f *connFlags, addr string) *certDoc {
	d := tls.Dialer{NetDialer: &net.Dialer{Timeout: f.timeout}, Config: &tls.Config{InsecureSkipVerify: true}} // only to read it
	cctx, cancel := context.WithTimeout(ctx, f.timeout)
	defer cancel()
	nc, err := d.DialContext(cctx, "tcp", addr)
	if err != nil {
		return nil
	}
	defer nc.Close()
	certs := nc.(*tls.Conn).ConnectionState().PeerCertificates
	if len(certs) == 0 {
		return nil
	}
	c := certs[0]
	doc := &certDoc{
		Subject: c.Subject.String(), Issuer: c.Issuer.String(),
		NotBefore: c.NotBefore.UTC().Format(time.RFC3339), NotAfter: c.NotAfter.UTC().Format(time.RFC3339),
		Names: append([]string(nil), c.DNSNames...),
	}
	for _, ip := range c.IPAddresses {
		doc.Names = append(doc.Names, ip.String())
	}
	return doc
}

// tlsProblem says in plain words what a handshake error means.
func tlsProblem(err error) string {
	var ua x509.UnknownAuthorityError
	var he x509.HostnameError
	var ci x509.CertificateInvalidError
	switch {
	case errors.As(err, &ua):
		return "certificate signed by an unknown authority (not trusted by --cacert / the system roots): " + errLine(err)
	case errors.As(err, &he):
		return "certificate is not valid for this address (name mismatch): " + errLine(err)
	case errors.As(err, &ci) && ci.Reason == x509.Expired:
		return "certificate expired or not yet valid: " + errLine(err)
	}
	return errLine(err)
}

// seedProblem says why a seed gave no topology: a TLS failure spelled out, with the
// certificate the seed presented.
func seedProblem(ctx context.Context, f *connFlags, seed string, err error) string {
	msg := errLine(err)
	if !strings.Contains(msg, seed) {
		msg = seed + ": " + msg
	}
	var ua x509.UnknownAuthorityError
	var he x509.HostnameError
	var ci x509.CertificateInvalidError
	if errors.As(err, &ua) || errors.As(err, &he) || errors.As(err, &ci) {
		msg = seed + ": tls: " + tlsProblem(err)
		if c := describeCert(ctx, f, seed); c != nil {
			msg += "; certificate presented: " + c.String()
		}
	}
	return msg
}

func formatRanges(rs [][2]int) string {
	parts := make([]string, len(rs))
	for i, r := range rs {
		if r[0] == r[1] {
			parts[i] = strconv.Itoa(r[0])
		} else {
			parts[i] = fmt.Sprintf("%d-%d", r[0], r[1])
		}
	}
	return strings.Join(parts, ",")
}

func parseInfo(s string) map[string]string {
	m := map[string]string{}
	for line := range strings.SplitSeq(s, "\n") {
		if k, v, ok := strings.Cut(strings.TrimSpace(line), ":"); ok {
			m[k] = v
		}
	}
	return m
}

func msf(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// probeUsage is the head of `redline probe --help`.
const probeUsage = `Usage: redline probe [flags]
       redline probe --watch [flags]

Checks every node of the cluster the seeds belong to: role and slots, TCP connect time,
TLS handshake (a rejected certificate spelled out: subject, issuer, validity, names),
auth/HELLO, PING latency, replication lag, and whether every node agrees on the slot
map. Exits 1 when anything is wrong, 2 on bad flags. A check the ACL user may not run
says "not permitted".

With --watch, a live view on a terminal, refreshed every --interval in place: each
node's role, state, ops/s (the commands it ran since the last round, less the view's
own), PING latency p50/p99 (over its last 100 PINGs, 5 a round), memory, clients,
replication lag and slot map, the problems, and a log of role and state
changes; what changed since the last refresh is highlighted. Quit with q or Ctrl-C.
When the output is not a terminal, or with --json: one JSON object per interval, one a
line.
`
