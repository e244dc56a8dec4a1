package redistest

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"testing"
)

// StandaloneConfig describes a standalone deployment to start: one redis-server (the
// primary, cluster mode off) and optionally replicas of it. The zero value is one
// plain server behind a fault proxy.
type StandaloneConfig struct {
	// Replicas is the number of replicas of the primary (0..5). They replicate through
	// the primary's proxy and announce their own proxies' addresses
	// (replica-announce-ip/port), so INFO replication and ROLE on the primary name the
	// proxies.
	Replicas int
	// TLS makes every server speak TLS only (clients and replication), with
	// certificates generated for the run; TLSConfig returns the client side. Enables
	// the TLSBad proxy mode.
	TLS bool
	// ClientAuth makes the servers require a client certificate. Only with TLS.
	ClientAuth bool
	// Password, when set, is required from clients (requirepass) and used by replicas
	// and by the harness (masterauth, AUTH).
	Password string
	// ServerArgs are appended to every redis-server command line (after its
	// configuration file), e.g. []string{"--maxmemory", "64mb"}.
	ServerArgs []string
	// NoProxy makes the servers announce their own ports, with no proxy in front.
	NoProxy bool
	// RedisServer is the server binary, as Config.RedisServer.
	RedisServer string
	// Dir is where the temporary directory is made ("" means os.TempDir()).
	Dir string
	// Logf, when set, receives a line for each step and control action.
	Logf func(format string, args ...any)
}

// Standalone is a running standalone redis-server (the primary) and its replicas on
// 127.0.0.1, each behind its own fault proxy. Node, Kill, Pause, Restart and SetFault
// work on its nodes as on a Cluster's. Close stops every process and removes every
// file. The servers keep nothing on disk: a restarted primary comes back empty, and its
// replicas resync empty (ServerArgs {"--appendonly", "yes"} changes that).
type Standalone struct {
	cfg   StandaloneConfig
	host  *Cluster
	nodes []*Node // the primary, then the replicas
}

// StartStandalone starts the servers cfg describes and returns when the primary
// answers, every replica's link to it is up and the primary lists every replica
// online. ctx bounds the start (DefaultWait when
// it has no deadline); on failure everything started is stopped and removed.
func StartStandalone(ctx context.Context, cfg StandaloneConfig) (*Standalone, error) {
	ctx, cancel := bounded(ctx)
	defer cancel()
	if cfg.Replicas < 0 || cfg.Replicas > 5 {
		return nil, fmt.Errorf("redistest: Replicas must be 0..5, got %d", cfg.Replicas)
	}
	h, err := newHost(hostConfig{kind: "standalone", redisServer: cfg.RedisServer, tls: cfg.TLS,
		clientAuth: cfg.ClientAuth, noProxy: cfg.NoProxy, dir: cfg.Dir, logf: cfg.Logf})
	if err != nil {
		return nil, err
	}
	s := &Standalone{cfg: cfg, host: h}
	if s.nodes, err = startData(ctx, h, cfg.Replicas, cfg.Password, cfg.ServerArgs); err != nil {
		h.Close()
		return nil, err
	}
	h.cfg.logf("redistest: standalone ready: %d server(s) in %s", len(s.nodes), h.dir)
	return s, nil
}

// RunStandalone starts a Standalone for a test and registers its Close with
// tb.Cleanup. It fails the test (never skips it) when the servers cannot start.
// cfg.Logf defaults to tb.Logf.
func RunStandalone(tb testing.TB, cfg StandaloneConfig) *Standalone {
	tb.Helper()
	if cfg.Logf == nil {
		cfg.Logf = tb.Logf
	}
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	s, err := StartStandalone(ctx, cfg)
	if errors.Is(err, ErrNoRedisServer) {
		tb.Fatalf("redistest: %v", err)
	}
	if err != nil {
		tb.Fatalf("redistest: standalone servers did not start: %v", err)
	}
	tb.Cleanup(func() {
		s.host.cfg.Logf = nil // tb.Logf may not be called once the test has ended
		if err := s.Close(); err != nil {
			tb.Errorf("redistest: close: %v", err)
		}
	})
	return s
}

// startData starts a primary ("primary") and replicas of it ("replica-1"…), and waits
// until every replica's link is up.
func startData(ctx context.Context, h *Cluster, replicas int, password string, extra []string) ([]*Node, error) {
	var nodes []*Node
	for i := range 1 + replicas {
		name := "primary"
		if i > 0 {
			name = fmt.Sprintf("replica-%d", i)
		}
		n, err := h.addProcess(name, password)
		if err != nil {
			return nil, err
		}
		var primary *Node
		if i > 0 {
			primary = nodes[0]
		}
		if err := dataConf(h, n, primary, password, extra); err != nil {
			return nil, err
		}
		nodes = append(nodes, n)
	}
	h.cfg.logf("redistest: starting a primary and %d replica(s) (TLS %v) in %s", replicas, h.pki != nil, h.dir)
	if err := h.eachNode(ctx, nodes, func(ctx context.Context, n *Node) error { return n.start(ctx) }); err != nil {
		return nil, err
	}
	err := h.waitFor(ctx, "the replicas' links to the primary", func(ctx context.Context) error {
		for _, r := range nodes[1:] {
			if err := replicaLinkUp(ctx, r, nodes[0].Addr()); err != nil {
				return err
			}
		}
		return primaryLists(ctx, nodes[0], nodes[1:])
	})
	return nodes, err
}

// Addr returns the address clients use for the primary (its proxy's).
func (s *Standalone) Addr() string { return s.nodes[0].Addr() }

// Primary returns the primary as started (node 0). Standalone servers have no
// failover: it stays the primary unless a test sends REPLICAOF itself.
func (s *Standalone) Primary() *Node { return s.nodes[0] }

// Replicas returns the replicas, in start order.
func (s *Standalone) Replicas() []*Node { return s.nodes[1:] }

// ReplicaAddrs returns the replicas' addresses (their proxies'), in start order: what
// a client names as a standalone server's replicas.
func (s *Standalone) ReplicaAddrs() []string { return addrsOf(s.nodes[1:]) }

// Nodes returns the primary, then the replicas.
func (s *Standalone) Nodes() []*Node { return s.nodes }

// Node returns node i of Nodes (0 is the primary).
func (s *Standalone) Node(i int) *Node { return s.nodes[i] }

// Addrs returns the proxies' addresses, in Nodes order.
func (s *Standalone) Addrs() []string { return addrsOf(s.nodes) }

// WaitHealthy waits until every running, unpaused replica replicates from the
// primary with its link up, and the primary lists it online (after a Restart, a fault,
// a Pause). ctx bounds the wait (DefaultWait when it has no deadline).
func (s *Standalone) WaitHealthy(ctx context.Context) error {
	ctx, cancel := bounded(ctx)
	defer cancel()
	return s.host.waitFor(ctx, "the replicas' links to the primary", func(ctx context.Context) error {
		var up []*Node
		for _, r := range s.nodes[1:] {
			if !r.Running() || r.Paused() {
				continue
			}
			if err := replicaLinkUp(ctx, r, s.Addr()); err != nil {
				return err
			}
			up = append(up, r)
		}
		return primaryLists(ctx, s.nodes[0], up)
	})
}

// TLSConfig returns a client TLS configuration trusting the servers' CA (with a
// client certificate), or nil without TLS. Each call returns a new copy.
func (s *Standalone) TLSConfig() *tls.Config { return s.host.TLSConfig() }

// Password returns the password clients need (StandaloneConfig.Password).
func (s *Standalone) Password() string { return s.cfg.Password }

// Server returns the server binary's name and version.
func (s *Standalone) Server() Server { return s.host.Server() }

// Dir returns the temporary directory.
func (s *Standalone) Dir() string { return s.host.Dir() }

// PIDs returns the process IDs of every redis-server running.
func (s *Standalone) PIDs() []int { return s.host.PIDs() }

// Close kills every process, stops the proxies and removes the directory. It waits
// until every process has exited. Safe to call more than once.
func (s *Standalone) Close() error { return s.host.Close() }

// addrsOf returns the nodes' announced addresses.
func addrsOf(nodes []*Node) []string {
	a := make([]string, len(nodes))
	for i, n := range nodes {
		a[i] = n.Addr()
	}
	return a
}
