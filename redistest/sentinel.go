package redistest

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"
)

// SentinelConfig describes a Sentinel-managed set to start: a primary, its replicas and
// the Sentinels monitoring it. The zero value is a primary, 2 replicas and 3
// Sentinels (quorum 2) that fail a dead primary over in about 2–4 s.
type SentinelConfig struct {
	// MasterName is the name the Sentinels monitor the primary under. "" means
	// "redline".
	MasterName string
	// Replicas is the number of replicas (1..5); 0 means 2.
	Replicas int
	// Sentinels is the number of Sentinels (1..7); 0 means 3.
	Sentinels int
	// Quorum is how many Sentinels must agree that the primary is down; 0 means a
	// majority of Sentinels.
	Quorum int
	// DownAfter is down-after-milliseconds: how long the primary may not answer before a
	// Sentinel deems it down. 0 means 1 s. At least 100 ms.
	DownAfter time.Duration
	// FailoverTimeout is failover-timeout (it also spaces two failover attempts of the
	// primary: twice this). 0 means 3 s.
	FailoverTimeout time.Duration
	// TLS makes every server and Sentinel speak TLS only (clients, replication,
	// Sentinel links), with certificates generated for the run; TLSConfig returns the
	// client side. Enables the TLSBad proxy mode.
	TLS bool
	// ClientAuth makes every process require a client certificate. Only with TLS.
	ClientAuth bool
	// Password, when set, is the data nodes' password (requirepass, masterauth); the
	// Sentinels use it to reach them (sentinel auth-pass).
	Password string
	// SentinelPassword, when set, is the Sentinels' own password (requirepass), apart
	// from the data nodes'.
	SentinelPassword string
	// ServerArgs are appended to every data node's command line.
	ServerArgs []string
	// RedisServer is the server binary, as Config.RedisServer; its Sentinels run it with
	// --sentinel.
	RedisServer string
	// Dir is where the temporary directory is made ("" means os.TempDir()).
	Dir string
	// Logf, when set, receives a line for each step and control action.
	Logf func(format string, args ...any)
}

// withDefaults validates c and fills its zero fields.
func (c SentinelConfig) withDefaults() (SentinelConfig, error) {
	if c.MasterName == "" {
		c.MasterName = "redline"
	}
	if c.Replicas == 0 {
		c.Replicas = 2
	}
	if c.Sentinels == 0 {
		c.Sentinels = 3
	}
	if c.Quorum == 0 {
		c.Quorum = c.Sentinels/2 + 1
	}
	if c.DownAfter == 0 {
		c.DownAfter = time.Second
	}
	if c.FailoverTimeout == 0 {
		c.FailoverTimeout = 3 * time.Second
	}
	switch {
	case c.Replicas < 1 || c.Replicas > 5:
		return c, fmt.Errorf("redistest: Replicas must be 1..5, got %d", c.Replicas)
	case c.Sentinels < 1 || c.Sentinels > 7:
		return c, fmt.Errorf("redistest: Sentinels must be 1..7, got %d", c.Sentinels)
	case c.Quorum < 1 || c.Quorum > c.Sentinels:
		return c, fmt.Errorf("redistest: Quorum must be 1..%d (Sentinels), got %d", c.Sentinels, c.Quorum)
	case c.DownAfter < 100*time.Millisecond:
		return c, fmt.Errorf("redistest: DownAfter must be at least 100ms, got %v", c.DownAfter)
	case c.FailoverTimeout < 500*time.Millisecond:
		return c, fmt.Errorf("redistest: FailoverTimeout must be at least 500ms, got %v", c.FailoverTimeout)
	}
	return c, nil
}

// SentinelSet is a running Sentinel deployment on 127.0.0.1: a primary, its replicas
// and the Sentinels monitoring them, every process behind its own fault proxy. The
// data nodes announce their proxies (replica-announce-ip/port) and the Sentinels
// monitor the primary at its proxy and announce their own (sentinel announce-ip/port),
// so every address a Sentinel hands out is a proxy's: a client that discovers the
// primary through the Sentinels reaches it through the proxy where faults are
// injected. Close stops every process and removes every file.
//
// Data nodes keep nothing on disk (save "", appendonly no): a restarted data node comes
// back empty, and a primary restarted before the Sentinels fail it over comes back an
// empty primary whose replicas then resync empty, as in a real deployment without
// persistence. ServerArgs such as {"--appendonly", "yes"} change that.
type SentinelSet struct {
	cfg       SentinelConfig
	host      *Cluster
	data      []*Node // the first primary, then the replicas, as started
	sentinels []*Node
}

// StartSentinelSet starts the set cfg describes and returns when every Sentinel
// monitors the primary, knows every replica (up) and every other Sentinel, and every
// replica's link is up. ctx bounds the start (DefaultWait when it has no deadline); on
// failure everything started is stopped and removed.
func StartSentinelSet(ctx context.Context, cfg SentinelConfig) (*SentinelSet, error) {
	ctx, cancel := bounded(ctx)
	defer cancel()
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	h, err := newHost(hostConfig{kind: "sentinel", redisServer: cfg.RedisServer, tls: cfg.TLS,
		clientAuth: cfg.ClientAuth, dir: cfg.Dir, logf: cfg.Logf})
	if err != nil {
		return nil, err
	}
	s := &SentinelSet{cfg: cfg, host: h}
	if err := s.start(ctx); err != nil {
		h.Close()
		return nil, err
	}
	return s, nil
}

func (s *SentinelSet) start(ctx context.Context) error {
	h, cfg := s.host, s.cfg
	var err error
	if s.data, err = startData(ctx, h, cfg.Replicas, cfg.Password, cfg.ServerArgs); err != nil {
		return err
	}
	for i := range cfg.Sentinels {
		n, err := h.addProcess(fmt.Sprintf("sentinel-%d", i), cfg.SentinelPassword)
		if err != nil {
			return err
		}
		if err := s.sentinelConf(n); err != nil {
			return err
		}
		n.ready = func(ctx context.Context) error { return sentinelTimings(ctx, n) }
		s.sentinels = append(s.sentinels, n)
	}
	h.cfg.logf("redistest: starting %d Sentinels monitoring %q at %s (quorum %d)", cfg.Sentinels, cfg.MasterName, s.data[0].Addr(), cfg.Quorum)
	if err := h.eachNode(ctx, s.sentinels, func(ctx context.Context, n *Node) error { return n.start(ctx) }); err != nil {
		return err
	}
	if err := s.WaitHealthy(ctx); err != nil {
		return err
	}
	h.cfg.logf("redistest: Sentinel set ready: %v, %d replicas, %d Sentinels", s.data[0], cfg.Replicas, cfg.Sentinels)
	return nil
}

// sentinelConf writes n's sentinel.conf and sets n.argv.
func (s *SentinelSet) sentinelConf(n *Node) error {
	cfg, name := s.cfg, s.cfg.MasterName
	var w confWriter
	w.common(s.host, n, "redis.log")
	w.line("sentinel", "announce-ip", "127.0.0.1")
	w.line("sentinel", "announce-port", n.proxyPort)
	w.line("sentinel", "monitor", name, "127.0.0.1", s.data[0].proxyPort, cfg.Quorum)
	w.line("sentinel", "down-after-milliseconds", name, cfg.DownAfter.Milliseconds())
	w.line("sentinel", "failover-timeout", name, cfg.FailoverTimeout.Milliseconds())
	w.line("sentinel", "parallel-syncs", name, cfg.Replicas) // all replicas follow the new primary at once
	if cfg.Password != "" {
		w.line("sentinel", "auth-pass", name, cfg.Password)
	}
	if cfg.SentinelPassword != "" {
		// Sentinels authenticate to each other with their own requirepass.
		w.line("requirepass", cfg.SentinelPassword)
	}
	conf := filepath.Join(n.dir, "sentinel.conf")
	if err := w.write(conf); err != nil {
		return err
	}
	n.argv = []string{conf, "--sentinel"}
	return nil
}

// sentinelDebug are the Sentinels' internal periods (ms), shortened from the defaults
// (INFO every 10 s, hello every 2 s, TILT for 30 s…) so that discovery and failover take
// a second or two, not tens. SENTINEL DEBUG is Redis 7.0+; older servers keep the
// defaults (discovery then takes a few seconds more).
var sentinelDebug = []any{
	"SENTINEL", "DEBUG",
	"info-period", 250,
	"ping-period", 250,
	"ask-period", 250,
	"publish-period", 250,
	"tilt-period", 2000,
	"slave-reconf-timeout", 3000,
}

// sentinelTimings applies sentinelDebug to a Sentinel that has just started (after
// every Restart too: the periods are not kept in its file).
func sentinelTimings(ctx context.Context, n *Node) error {
	if !n.cluster.cfg.server.AtLeast(7, 0) {
		return nil
	}
	_, err := n.Do(ctx, sentinelDebug...)
	return err
}

// RunSentinelSet starts a SentinelSet for a test and registers its Close with
// tb.Cleanup. It fails the test (never skips it) when the set cannot start.
// cfg.Logf defaults to tb.Logf.
func RunSentinelSet(tb testing.TB, cfg SentinelConfig) *SentinelSet {
	tb.Helper()
	if cfg.Logf == nil {
		cfg.Logf = tb.Logf
	}
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	s, err := StartSentinelSet(ctx, cfg)
	if errors.Is(err, ErrNoRedisServer) {
		tb.Fatalf("redistest: %v", err)
	}
	if err != nil {
		tb.Fatalf("redistest: Sentinel set did not start: %v", err)
	}
	tb.Cleanup(func() {
		s.host.cfg.Logf = nil // tb.Logf may not be called once the test has ended
		if err := s.Close(); err != nil {
			tb.Errorf("redistest: close: %v", err)
		}
	})
	return s
}

// MasterName returns the name the Sentinels monitor the primary under.
func (s *SentinelSet) MasterName() string { return s.cfg.MasterName }

// SentinelAddrs returns the Sentinels' addresses (their proxies'), in Sentinels order:
// what a client is given.
func (s *SentinelSet) SentinelAddrs() []string { return addrsOf(s.sentinels) }

// Sentinels returns the Sentinel processes. Kill, Pause, Restart and SetFault work on
// them as on data nodes; Do talks to a Sentinel directly (SENTINEL …).
func (s *SentinelSet) Sentinels() []*Node { return s.sentinels }

// Sentinel returns Sentinel i.
func (s *SentinelSet) Sentinel(i int) *Node { return s.sentinels[i] }

// Nodes returns the data nodes: the first primary, then the replicas, as started.
// Roles change with failovers: use Primary for the current one.
func (s *SentinelSet) Nodes() []*Node { return s.data }

// Node returns data node i of Nodes.
func (s *SentinelSet) Node(i int) *Node { return s.data[i] }

// Addrs returns the data nodes' addresses (their proxies'), in Nodes order.
func (s *SentinelSet) Addrs() []string { return addrsOf(s.data) }

// NodeByAddr returns the data node or Sentinel announcing addr (or listening on it),
// or nil.
func (s *SentinelSet) NodeByAddr(addr string) *Node { return s.host.NodeByAddr(addr) }

// TLSConfig returns a client TLS configuration trusting the set's CA (with a client
// certificate), or nil without TLS. Each call returns a new copy. Data nodes and
// Sentinels share the CA.
func (s *SentinelSet) TLSConfig() *tls.Config { return s.host.TLSConfig() }

// Password returns the data nodes' password (SentinelConfig.Password).
func (s *SentinelSet) Password() string { return s.cfg.Password }

// SentinelPassword returns the Sentinels' own password (SentinelConfig.SentinelPassword).
func (s *SentinelSet) SentinelPassword() string { return s.cfg.SentinelPassword }

// Config returns the configuration in force (defaults filled in).
func (s *SentinelSet) Config() SentinelConfig { return s.cfg }

// Server returns the server binary's name and version.
func (s *SentinelSet) Server() Server { return s.host.Server() }

// Dir returns the temporary directory.
func (s *SentinelSet) Dir() string { return s.host.Dir() }

// PIDs returns the process IDs of every redis-server (data node or Sentinel) running.
func (s *SentinelSet) PIDs() []int { return s.host.PIDs() }

// Close kills every process, stops the proxies and removes the directory. It waits
// until every process has exited. Safe to call more than once.
func (s *SentinelSet) Close() error { return s.host.Close() }
