package redistest

import (
	"context"
	"crypto/tls"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// A Standalone or a SentinelSet keeps its processes in a host: a Cluster that is never
// formed (no slots, no bus), used for what every deployment shares — the temporary
// directory, the certificates, process tracking and Close. Each of its nodes runs from
// a configuration file written in its directory (Node.argv), so that what a Sentinel
// rewrites there (REPLICAOF, CONFIG REWRITE, its own state) survives a Restart, as on
// a real host.

// hostConfig is what a host needs from a deployment's configuration.
type hostConfig struct {
	kind        string // "standalone", "sentinel": the directory's prefix
	redisServer string
	tls         bool
	clientAuth  bool
	noProxy     bool
	dir         string
	logf        func(format string, args ...any)
}

// newHost probes the server binary and makes the directory (and certificates).
func newHost(hc hostConfig) (*Cluster, error) {
	path := hc.redisServer
	if path == "" {
		var err error
		if path, err = defaultServerPath(); err != nil {
			return nil, err
		}
	}
	srv, err := ProbeServer(path)
	if err != nil {
		return nil, err
	}
	if hc.clientAuth && !hc.tls {
		return nil, fmt.Errorf("redistest: ClientAuth needs TLS")
	}
	h := &Cluster{
		cfg: Config{RedisServer: path, TLS: hc.tls, ClientAuth: hc.clientAuth, NoProxy: hc.noProxy,
			Dir: hc.dir, Logf: hc.logf, server: srv},
		pids: map[int]bool{},
	}
	if h.dir, err = os.MkdirTemp(hc.dir, "redistest-"+hc.kind+"-"); err != nil {
		return nil, fmt.Errorf("redistest: %w", err)
	}
	if hc.tls {
		if h.pki, err = newPKI(h.dir); err != nil {
			h.Close()
			return nil, err
		}
	}
	return h, nil
}

// addProcess adds a node (ports, proxy, directory name; no process yet) to h.nodes, so
// that Close cleans up after a partial failure too. password is what the harness's own
// connection sends (AUTH).
func (h *Cluster) addProcess(name, password string) (*Node, error) {
	n := &Node{cluster: h, index: len(h.nodes), name: name}
	h.nodes = append(h.nodes, n)
	n.admin = &adminConn{password: password}
	var err error
	if n.port, err = freePort(); err != nil {
		return nil, err
	}
	n.admin.addr = n.ServerAddr()
	if h.pki != nil {
		n.admin.tls = h.pki.clientConfig()
		n.certFile, n.keyFile = h.pki.certFile, h.pki.keyFile
	}
	n.proxyPort = n.port
	if !h.cfg.NoProxy {
		if n.proxyPort, err = freePort(); err != nil {
			return nil, err
		}
		var badTLS *tls.Config
		if h.pki != nil {
			badTLS = &tls.Config{Certificates: []tls.Certificate{h.pki.bad}}
		}
		if n.proxy, err = newProxy(n.Addr(), n.ServerAddr(), badTLS); err != nil {
			return nil, fmt.Errorf("redistest: proxy for %s: %w", name, err)
		}
	}
	n.dir = filepath.Join(h.dir, name)
	if err := os.Mkdir(n.dir, 0o700); err != nil {
		return nil, fmt.Errorf("redistest: %w", err)
	}
	return n, nil
}

// confWriter builds a redis.conf or sentinel.conf, one directive a line, each argument
// quoted.
type confWriter struct{ b strings.Builder }

func (w *confWriter) line(args ...any) {
	for i, a := range args {
		if i > 0 {
			w.b.WriteByte(' ')
		}
		if s := fmt.Sprint(a); i == 0 {
			w.b.WriteString(s)
		} else {
			w.b.WriteString(strconv.Quote(s))
		}
	}
	w.b.WriteByte('\n')
}

// common writes what every process of a host shares: address, files, TLS.
func (w *confWriter) common(h *Cluster, n *Node, logName string) {
	w.line("bind", "127.0.0.1")
	w.line("dir", n.dir)
	w.line("logfile", filepath.Join(n.dir, logName))
	w.line("daemonize", "no")
	if h.pki == nil {
		w.line("port", n.port)
		return
	}
	auth := "no"
	if h.cfg.ClientAuth {
		auth = "yes"
	}
	w.line("port", 0)
	w.line("tls-port", n.port)
	w.line("tls-cert-file", n.certFile)
	w.line("tls-key-file", n.keyFile)
	w.line("tls-ca-cert-file", h.pki.caFile)
	w.line("tls-auth-clients", auth)
	w.line("tls-replication", "yes") // replicas to their primary; Sentinels to every instance
}

// write writes the file at path, which the process reads (and may rewrite).
func (w *confWriter) write(path string) error {
	if err := os.WriteFile(path, []byte(w.b.String()), 0o600); err != nil {
		return fmt.Errorf("redistest: %w", err)
	}
	return nil
}

// dataConf writes node n's redis.conf: a standalone redis-server announcing its
// proxy's address to its primary (and so to the Sentinels), a replica of primary
// (reached through its proxy) unless primary is nil. It sets n.argv.
func dataConf(h *Cluster, n, primary *Node, password string, extra []string) error {
	var w confWriter
	w.common(h, n, "redis.log")
	w.line("save", "")
	w.line("appendonly", "no")
	w.line("repl-diskless-sync-delay", 0) // a replica's full sync starts at once (default: 5 s later)
	w.line("replica-announce-ip", "127.0.0.1")
	w.line("replica-announce-port", n.proxyPort)
	if h.cfg.server.AtLeast(7, 0) {
		w.line("enable-debug-command", "local")
	}
	if password != "" {
		w.line("requirepass", password)
		w.line("masterauth", password)
	}
	if primary != nil {
		w.line("replicaof", "127.0.0.1", primary.proxyPort)
	}
	conf := filepath.Join(n.dir, "redis.conf")
	if err := w.write(conf); err != nil {
		return err
	}
	n.argv = append([]string{conf}, extra...)
	return nil
}

// replicaLinkUp reports, as an error, why replica r is not yet replicating from the
// node announced at primaryAddr with its link up (nil when it is).
func replicaLinkUp(ctx context.Context, r *Node, primaryAddr string) error {
	v, err := r.Do(ctx, "INFO", "replication")
	if err != nil {
		return err
	}
	s, _ := text(v)
	info := parseInfo(s)
	if info["role"] != "slave" {
		return fmt.Errorf("%v: role %s, want a replica of %s", r, info["role"], primaryAddr)
	}
	if got := info["master_host"] + ":" + info["master_port"]; got != primaryAddr {
		return fmt.Errorf("%v: replicates %s, want %s", r, got, primaryAddr)
	}
	if info["master_link_status"] != "up" {
		return fmt.Errorf("%v: link to %s not up yet", r, primaryAddr)
	}
	return nil
}

// primaryLists reports, as an error, why primary p does not yet list every replica of
// replicas as online (INFO replication): a replica reports its link up a moment before
// its primary counts it, for WAIT and ROLE.
func primaryLists(ctx context.Context, p *Node, replicas []*Node) error {
	v, err := p.Do(ctx, "INFO", "replication")
	if err != nil {
		return err
	}
	s, _ := text(v)
	info := parseInfo(s)
	online := map[string]bool{}
	for k, v := range info {
		if !strings.HasPrefix(k, "slave") {
			continue
		}
		f := map[string]string{}
		for kv := range strings.SplitSeq(v, ",") {
			k, v, _ := strings.Cut(kv, "=")
			f[k] = v
		}
		if f["state"] == "online" {
			online[f["ip"]+":"+f["port"]] = true
		}
	}
	for _, r := range replicas {
		if !online[r.Addr()] {
			return fmt.Errorf("%v does not list %v as an online replica yet", p, r)
		}
	}
	return nil
}
