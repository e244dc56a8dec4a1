package redistest

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
)

// Standalone is a standalone redis-server (cluster support disabled) on 127.0.0.1 with
// its replicas (REPLICAOF), each behind its own fault proxy, as Cluster's nodes are:
// SetFault, Kill, Pause, Restart work on its Nodes alike. Close stops every process
// and removes every file.
type Standalone struct {
	c *Cluster
}

// StartStandalone starts a standalone primary and cfg.ReplicasPerMaster replicas of
// it (each announcing its proxy's port: replica-announce-port), and returns when every
// replica's link to the primary is up. Of cfg, Masters must
// be 0 or 1 and Hostnames and Zones unset; TLS, ClientAuth, Password, ServerArgs,
// NoProxy, RedisServer, Dir and Logf apply as for Start. ctx bounds the whole start;
// on any failure everything started so far is stopped and removed.
func StartStandalone(ctx context.Context, cfg Config) (*Standalone, error) {
	ctx, cancel := bounded(ctx)
	defer cancel()
	switch {
	case cfg.Masters > 1:
		return nil, fmt.Errorf("redistest: a standalone server has one primary (Masters %d)", cfg.Masters)
	case cfg.Hostnames || len(cfg.Zones) > 0:
		return nil, errors.New("redistest: Hostnames and Zones are cluster announcements: not for a standalone server")
	}
	cfg.Masters = 1
	// The harness's cluster settings stay on the command line, inert: cluster-enabled
	// no, given last, wins.
	cfg.ServerArgs = append([]string{"--cluster-enabled", "no"}, cfg.ServerArgs...)
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	c := &Cluster{cfg: cfg, pids: map[int]bool{}}
	s := &Standalone{c: c}
	if err := s.start(ctx); err != nil {
		c.Close()
		return nil, err
	}
	return s, nil
}

func (s *Standalone) start(ctx context.Context) error {
	c, cfg := s.c, s.c.cfg
	dir, err := os.MkdirTemp(cfg.Dir, "redistest-standalone-")
	if err != nil {
		return fmt.Errorf("redistest: %w", err)
	}
	c.dir = dir
	var badTLS *tls.Config
	if cfg.TLS {
		if c.pki, err = newPKI(dir); err != nil {
			return err
		}
		badTLS = &tls.Config{Certificates: []tls.Certificate{c.pki.bad}}
	}
	cfg.logf("redistest: starting a standalone server and %d replicas (TLS %v) in %s", cfg.ReplicasPerMaster, cfg.TLS, dir)
	for i := range 1 + cfg.ReplicasPerMaster {
		if err := c.newNode(i, badTLS); err != nil {
			return err
		}
	}
	if err := c.eachNode(ctx, c.nodes, func(ctx context.Context, n *Node) error { return n.start(ctx) }); err != nil {
		return err
	}
	p := c.nodes[0]
	for _, r := range c.nodes[1:] {
		// The replica announces its proxy: what the primary's INFO replication, and so
		// a Sentinel, report of it is the address clients reach it at.
		if _, err := r.Do(ctx, "CONFIG", "SET", "replica-announce-port", strconv.Itoa(r.proxyPort)); err != nil {
			return fmt.Errorf("redistest: node %d: CONFIG SET replica-announce-port: %w", r.index, err)
		}
		if _, err := r.Do(ctx, "REPLICAOF", "127.0.0.1", strconv.Itoa(p.port)); err != nil {
			return fmt.Errorf("redistest: node %d: REPLICAOF: %w", r.index, err)
		}
	}
	return s.WaitReplicas(ctx)
}

// WaitReplicas waits until every running, unpaused replica reports its link to the
// primary up (INFO replication: master_link_status:up).
func (s *Standalone) WaitReplicas(ctx context.Context) error {
	ctx, cancel := bounded(ctx)
	defer cancel()
	return s.c.waitFor(ctx, "replica links up", func(ctx context.Context) error {
		for _, r := range s.Replicas() {
			if !r.Running() || r.Paused() {
				continue
			}
			v, err := r.Do(ctx, "INFO", "replication")
			if err != nil {
				return err
			}
			if !strings.Contains(string(v.Str), "master_link_status:up") {
				return fmt.Errorf("node %d: replication link not up", r.index)
			}
		}
		return nil
	})
}

// Primary returns the primary's node.
func (s *Standalone) Primary() *Node { return s.c.nodes[0] }

// Replicas returns the replicas' nodes.
func (s *Standalone) Replicas() []*Node { return s.c.nodes[1:] }

// Nodes returns the primary, then the replicas.
func (s *Standalone) Nodes() []*Node { return s.c.nodes }

// Addr returns the primary's address (its proxy's): what a client connects to.
func (s *Standalone) Addr() string { return s.Primary().Addr() }

// ReplicaAddrs returns the replicas' addresses (their proxies').
func (s *Standalone) ReplicaAddrs() []string {
	var out []string
	for _, r := range s.Replicas() {
		out = append(out, r.Addr())
	}
	return out
}

// Server returns the server the processes run (name and version).
func (s *Standalone) Server() Server { return s.c.Server() }

// TLSConfig returns a client TLS configuration trusting the servers' CA, or nil
// without TLS (see Cluster.TLSConfig).
func (s *Standalone) TLSConfig() *tls.Config { return s.c.TLSConfig() }

// Password returns the password clients need (Config.Password).
func (s *Standalone) Password() string { return s.c.Password() }

// PIDs returns the process IDs of every redis-server it has running.
func (s *Standalone) PIDs() []int { return s.c.PIDs() }

// Close kills every process, stops the proxies and removes the directory. Safe to
// call more than once.
func (s *Standalone) Close() error { return s.c.Close() }

// sharedStandalone holds the standalone servers SharedStandalone started, by name.
var sharedStandalone = map[string]*Standalone{}

// SharedStandalone is Shared for a standalone server: started with cfg by the first
// test of the binary that asks for name, then returned as it is; CloseShared (or Main)
// stops it with the shared clusters.
func SharedStandalone(tb testing.TB, name string, cfg Config) *Standalone {
	tb.Helper()
	shared.mu.Lock()
	defer shared.mu.Unlock()
	key := "standalone:" + name
	if s := sharedStandalone[key]; s != nil && shared.byKey[key] == s.c {
		return s
	}
	if err := shared.errs[key]; err != nil {
		tb.Fatalf("redistest: shared standalone server %q failed to start earlier: %v", name, err)
	}
	if shared.byKey == nil {
		shared.byKey, shared.errs = map[string]*Cluster{}, map[string]error{}
	}
	ctx, cancel := context.WithTimeout(context.Background(), sharedStartTimeout)
	defer cancel()
	s, err := StartStandalone(ctx, cfg)
	if err != nil {
		shared.errs[key] = err
		tb.Fatalf("redistest: shared standalone server %q did not start: %v", name, err)
	}
	sharedStandalone[key] = s
	shared.byKey[key] = s.c
	shared.order = append(shared.order, s.c)
	return s
}
