//go:build capture

// This file records the CLUSTER SHARDS and CLUSTER SLOTS replies of a real redis-server into
// testdata/, byte for byte, for the fixture tests. It needs redis-server on PATH and the
// loopback ports 7101-7104, 7121-7122 (on ::1), 7131-7132 and 7141-7142 (plus 10000 more
// for the cluster bus) free. Run it with:
//
//	go test -tags capture -run TestCapture -v ./internal/topology/
//
// It starts its servers in a temporary directory and kills them when it ends. Set
// TOPOLOGY_CAPTURE_DIR to write the replies elsewhere than testdata/.
package topology

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redline-go/redline/resp"
)

// capNode is one redis-server started for a capture.
type capNode struct {
	t    *testing.T
	host string // address it binds to
	port int
	id   string
}

func (n *capNode) addr() string { return net.JoinHostPort(n.host, strconv.Itoa(n.port)) }

// capConn is a raw client connection that records the bytes of each reply.
type capConn struct {
	c   net.Conn
	rec bytes.Buffer
	rd  *resp.Reader
}

func dialCap(t *testing.T, addr string, tlsConf *tls.Config, proto int) *capConn {
	t.Helper()
	var c net.Conn
	var err error
	if tlsConf != nil {
		c, err = tls.DialWithDialer(&net.Dialer{Timeout: 2 * time.Second}, "tcp", addr, tlsConf)
	} else {
		c, err = net.DialTimeout("tcp", addr, 2*time.Second)
	}
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	t.Cleanup(func() { c.Close() })
	cc := &capConn{c: c}
	cc.rd = resp.NewReader(io.TeeReader(c, &cc.rec), resp.Limits{})
	if proto == 3 {
		cc.do(t, "HELLO", "3")
	}
	return cc
}

// do sends one command and returns its reply and the reply's exact bytes.
func (cc *capConn) do(t *testing.T, args ...string) (resp.Value, []byte) {
	t.Helper()
	cc.rec.Reset()
	cc.c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := cc.c.Write(resp.AppendCommandStrings(nil, args...)); err != nil {
		t.Fatalf("%v: %v", args, err)
	}
	v, err := cc.rd.ReadValue()
	if err != nil {
		t.Fatalf("%v: %v", args, err)
	}
	if cc.rd.Buffered() != 0 {
		t.Fatalf("%v: %d bytes after the reply", args, cc.rd.Buffered())
	}
	if v.IsError() {
		t.Fatalf("%v: %s", args, v.Str)
	}
	return v, bytes.Clone(cc.rec.Bytes())
}

func startCap(t *testing.T, dir, host string, port int, extra ...string) *capNode {
	t.Helper()
	for _, p := range []int{port, port + 10000} {
		ln, err := net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(p)))
		if err != nil {
			t.Fatalf("port %d is not free: %v", p, err)
		}
		ln.Close()
	}
	args := []string{
		"--port", strconv.Itoa(port), "--bind", host,
		"--cluster-enabled", "yes",
		"--cluster-config-file", fmt.Sprintf("nodes-%d.conf", port),
		"--cluster-node-timeout", "2000",
		"--dir", dir, "--save", "", "--appendonly", "no",
		"--logfile", filepath.Join(dir, fmt.Sprintf("redis-%d.log", port)),
	}
	cmd := exec.Command("redis-server", append(args, extra...)...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	n := &capNode{t: t, host: host, port: port}
	deadline := time.Now().Add(5 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", n.addr(), time.Second)
		if err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("redis-server on %s did not start: %v", n.addr(), err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	v, _ := n.conn(nil, 2).do(t, "CLUSTER", "MYID")
	n.id = string(v.Str)
	return n
}

func (n *capNode) conn(tlsConf *tls.Config, proto int) *capConn {
	return dialCap(n.t, n.addr(), tlsConf, proto)
}

func (n *capNode) do(args ...string) resp.Value {
	v, _ := n.conn(nil, 2).do(n.t, args...)
	return v
}

// waitFor polls cond (on the CLUSTER SHARDS reply of n, in RESP2 bytes) until it holds.
func waitFor(t *testing.T, n *capNode, what string, cond func(raw []byte) bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	c := n.conn(nil, 2)
	for {
		_, raw := c.do(t, "CLUSTER", "SHARDS")
		if cond(raw) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s; last reply:\n%q", what, raw)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// record writes <name>-{shards,slots}-resp{2,3}.resp, asked of n (over TLS with tlsConf).
func record(t *testing.T, n *capNode, tlsConf *tls.Config, name string) {
	t.Helper()
	for _, proto := range []int{2, 3} {
		c := n.conn(tlsConf, proto)
		for _, sub := range []string{"SHARDS", "SLOTS"} {
			_, raw := c.do(t, "CLUSTER", sub)
			file := filepath.Join(captureDir(), fmt.Sprintf("%s-%s-resp%d.resp", name, strings.ToLower(sub), proto))
			if err := os.WriteFile(file, raw, 0o644); err != nil {
				t.Fatal(err)
			}
			t.Logf("%s: %d bytes", file, len(raw))
		}
	}
}

// captureDir is where record writes: testdata, or $TOPOLOGY_CAPTURE_DIR (to compare a new
// recording with the committed one without replacing it).
func captureDir() string {
	if d := os.Getenv("TOPOLOGY_CAPTURE_DIR"); d != "" {
		return d
	}
	return "testdata"
}

func countOf(raw []byte, s string) int { return bytes.Count(raw, []byte(s)) }

func TestCapture(t *testing.T) {
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Skip("redis-server not on PATH")
	}
	v, err := exec.Command("redis-server", "--version").Output()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%s", bytes.TrimSpace(v))
	t.Run("ipv4", captureIPv4)
	t.Run("ipv6", captureIPv6)
	t.Run("tls", captureTLS)
}

// captureIPv4: A (slots 0-5460, 10000-10010) with replica C, B (the rest), D (empty
// primary); then the same cluster with hostnames and each preferred endpoint type.
func captureIPv4(t *testing.T) {
	dir := t.TempDir()
	a := startCap(t, dir, "127.0.0.1", 7101)
	b := startCap(t, dir, "127.0.0.1", 7102)
	c := startCap(t, dir, "127.0.0.1", 7103)
	d := startCap(t, dir, "127.0.0.1", 7104)
	for _, n := range []*capNode{b, c, d} {
		a.do("CLUSTER", "MEET", "127.0.0.1", strconv.Itoa(n.port))
	}
	a.do("CLUSTER", "ADDSLOTSRANGE", "0", "5460", "10000", "10010")
	b.do("CLUSTER", "ADDSLOTSRANGE", "5461", "9999", "10011", "16383")
	waitFor(t, c, "C to know A", func(raw []byte) bool { return bytes.Contains(raw, []byte(a.id)) })
	c.do("CLUSTER", "REPLICATE", a.id)
	all := func(raw []byte) bool {
		return countOf(raw, "\r\nonline\r\n") == 4 && countOf(raw, "\r\nreplica\r\n") == 1 &&
			countOf(raw, "\r\nmaster\r\n") == 3
	}
	for _, n := range []*capNode{a, b, c, d} {
		waitFor(t, n, "all four nodes online", all)
	}
	record(t, a, nil, "ipv4")

	// Hostnames announced, endpoint type still ip: hostname in SHARDS, metadata in SLOTS.
	for i, n := range []*capNode{a, b, c} { // not D: it stays without a hostname
		n.do("CONFIG", "SET", "cluster-announce-hostname", "node-"+string(rune('a'+i))+".redline.test")
	}
	for _, n := range []*capNode{a, b, c, d} {
		waitFor(t, n, "hostnames", func(raw []byte) bool { return countOf(raw, ".redline.test") == 3 })
	}
	record(t, a, nil, "hostnames")

	// Endpoint type hostname: D, which has none, is "?".
	for _, n := range []*capNode{a, b, c, d} {
		n.do("CONFIG", "SET", "cluster-preferred-endpoint-type", "hostname")
	}
	record(t, a, nil, "prefer-hostname")

	// Endpoint type unknown-endpoint.
	for _, n := range []*capNode{a, b, c, d} {
		n.do("CONFIG", "SET", "cluster-preferred-endpoint-type", "unknown-endpoint")
	}
	record(t, a, nil, "unknown-endpoint")
	for _, n := range []*capNode{a, b, c, d} {
		n.do("CONFIG", "SET", "cluster-preferred-endpoint-type", "ip")
	}

	// A failed node: D (the empty primary) goes down; A and B mark it failed.
	d.conn(nil, 2).c.Write(resp.AppendCommandStrings(nil, "SHUTDOWN", "NOSAVE"))
	waitFor(t, a, "D failed", func(raw []byte) bool { return countOf(raw, "\r\nfail\r\n") == 1 })
	record(t, a, nil, "failed")
}

// captureIPv6: E alone before any MEET (its own IP still unknown), then E with replica F,
// both on ::1.
func captureIPv6(t *testing.T) {
	dir := t.TempDir()
	e := startCap(t, dir, "::1", 7121)
	e.do("CLUSTER", "ADDSLOTSRANGE", "0", "16383")
	record(t, e, nil, "lonely")
	f := startCap(t, dir, "::1", 7122)
	e.do("CLUSTER", "MEET", "::1", "7122")
	waitFor(t, f, "F to know E", func(raw []byte) bool { return bytes.Contains(raw, []byte(e.id)) })
	f.do("CLUSTER", "REPLICATE", e.id)
	for _, n := range []*capNode{e, f} {
		waitFor(t, n, "E and F online", func(raw []byte) bool {
			return countOf(raw, "\r\nonline\r\n") == 2 && countOf(raw, "\r\nreplica\r\n") == 1
		})
	}
	record(t, e, nil, "ipv6")
}

// captureTLS: G (all slots) with replica H, each with a plain port and a TLS port, the
// cluster bus over TLS; asked over plain TCP and over TLS.
func captureTLS(t *testing.T) {
	dir := t.TempDir()
	for _, p := range []int{7141, 7142, 17141, 17142} { // TLS ports, and the bus on them
		ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(p)))
		if err != nil {
			t.Fatalf("port %d is not free: %v", p, err)
		}
		ln.Close()
	}
	tlsConf := writeCerts(t, dir)
	tlsArgs := func(port int) []string {
		return []string{
			"--tls-port", strconv.Itoa(port),
			"--tls-cert-file", filepath.Join(dir, "node.crt"),
			"--tls-key-file", filepath.Join(dir, "node.key"),
			"--tls-ca-cert-file", filepath.Join(dir, "ca.crt"),
			"--tls-cluster", "yes", "--tls-replication", "yes", "--tls-auth-clients", "no",
		}
	}
	g := startCap(t, dir, "127.0.0.1", 7131, tlsArgs(7141)...)
	h := startCap(t, dir, "127.0.0.1", 7132, tlsArgs(7142)...)
	g.do("CLUSTER", "ADDSLOTSRANGE", "0", "16383")
	// With tls-cluster, the bus listens on the TLS port + 10000: MEET names the TLS port.
	g.do("CLUSTER", "MEET", "127.0.0.1", "7142")
	waitFor(t, h, "H to know G", func(raw []byte) bool { return bytes.Contains(raw, []byte(g.id)) })
	h.do("CLUSTER", "REPLICATE", g.id)
	for _, n := range []*capNode{g, h} {
		waitFor(t, n, "G and H online", func(raw []byte) bool {
			return countOf(raw, "\r\nonline\r\n") == 2 && countOf(raw, "\r\nreplica\r\n") == 1
		})
	}
	record(t, g, nil, "tls-plain")
	tg := &capNode{t: t, host: g.host, port: 7141}
	record(t, tg, tlsConf, "tls-tls")
}

// writeCerts writes ca.crt, node.crt and node.key (for 127.0.0.1) into dir and returns a
// client config trusting the CA.
func writeCerts(t *testing.T, dir string) *tls.Config {
	t.Helper()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ca := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "redline test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, ca, ca, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caCert, _ := x509.ParseCertificate(caDER)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	leaf := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
	}
	leafDER, err := x509.CreateCertificate(rand.Reader, leaf, caCert, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, _ := x509.MarshalECPrivateKey(key)
	write := func(name, typ string, der []byte) {
		b := pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("ca.crt", "CERTIFICATE", caDER)
	write("node.crt", "CERTIFICATE", leafDER)
	write("node.key", "EC PRIVATE KEY", keyDER)
	pool := x509.NewCertPool()
	pool.AddCert(caCert)
	return &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"}
}
