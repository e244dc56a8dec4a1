// Package redistest starts real Redis deployments on 127.0.0.1 for tests and programs
// — clusters, standalone servers and Sentinel sets — with a fault-injecting proxy in
// front of every process.
//
// A cluster is made of redis-server processes (Redis 7.0 or newer; `make deps`
// installs Debian's package), each in its own temporary directory on free loopback
// ports. Every node announces its proxy's port (cluster-announce-port or
// cluster-announce-tls-port), so a client that discovers the topology talks to every
// node through its proxy, whose mode can be switched at run time:
//
//	c := redistest.Run(t, redistest.Config{Masters: 3, ReplicasPerMaster: 1})
//	n := c.Node(1)
//	n.SetFault(redistest.Blackhole) // connects to n now time out at the dialer's timeout
//	n.SetFault(redistest.Pass)
//
// The modes are Pass, Refuse, Blackhole, Hang, Slow(d), Reset and, for TLS clusters,
// TLSBad; StaleMaster(addr) for a Sentinel (below); and, acting on replies only, Stall(d) (replies held d, requests executed at
// once), Dribble(n, gap) (replies in n-byte pieces), ResetMidReply(n) (n bytes of a
// reply, then RST) and CloseAfterRequest (the request executed, its reply dropped and
// the connection closed); see Mode. None needs root: Blackhole is a listening socket whose accept
// queue is full, on which the kernel drops SYNs. The cluster bus goes straight between
// nodes, so a client-path fault does not change the cluster's own view of a node;
// replication goes through the proxies. Kill, Restart, Pause and Resume act on the
// processes themselves; Cluster.Failover and Cluster.BeginMigration drive a failover and
// a slot migration step by step.
//
// Node.Do talks to a node's server directly, bypassing the proxy, for setup and checks.
//
// Start returns only when every node reports cluster_state:ok, all nodes agree on the
// slot map and every replica's link is up. Close (or Run's cleanup) kills every process
// it started and removes every file, and the kernel kills the servers if the program
// dies first (Linux). Neither Start nor Run skips: a missing redis-server is an error
// (ErrNoRedisServer) that says how to install it.
//
// # Standalone servers and Sentinel sets
//
// StartStandalone (or RunStandalone) starts one redis-server with cluster mode off, and
// optionally replicas of it; StartSentinelSet (or RunSentinelSet) starts a primary, its
// replicas (2 by default) and Sentinels (3, quorum 2) monitoring it under a master name:
//
//	s := redistest.RunSentinelSet(t, redistest.SentinelConfig{})
//	opts := …{SentinelAddrs: s.SentinelAddrs(), MasterName: s.MasterName()}
//	old, _ := s.Primary(ctx)                  // as every live Sentinel reports it
//	old.Kill()                                // or Pause (SIGSTOP), SetFault(Blackhole)…
//	p, err := s.WaitForFailover(ctx, old)     // promoted in ~2 s (DownAfter 1 s)
//	old.Restart(ctx)                          // Sentinel makes it a replica of p
//	err = s.WaitHealthy(ctx)
//	s.Sentinel(1).SetFault(redistest.StaleMaster(old.Addr())) // a Sentinel that missed it
//
// Every process, Sentinels included, is behind its own proxy, runs from a configuration
// file in its directory (which a Sentinel rewrites, as on a real host: a restarted node
// keeps what it was told) and is a *Node: Kill, Pause, Resume, Restart, SetFault and Do
// work as on a cluster's nodes. The data nodes announce their proxies
// (replica-announce-ip/port), the Sentinels monitor the primary at its proxy and
// announce their own (sentinel announce-ip/port), so every address a Sentinel hands
// out is a proxy's. As a consequence the Sentinels, the replicas' replication and the
// Sentinels' links to each other go through the proxies too: a fault on the primary's
// proxy that lasts longer than DownAfter makes the Sentinels fail it over, as a real
// partition would. The Sentinels' internal periods are shortened (SENTINEL DEBUG, Redis
// 7.0+) so that discovery takes about a second and a failover two.
//
// StaleMaster(addr), for a Sentinel's proxy only, makes that Sentinel report the
// primary at addr: the proxy answers SENTINEL GET-MASTER-ADDR-BY-NAME itself, rewrites
// the address in SENTINEL MASTER(S) and drops +switch-master messages; all else passes.
// It needs a plain (non-TLS) set. Primary, SentinelView and the waits ask the Sentinels
// directly, around their proxies, so they always see the real state.
//
// For scale, where a thousand redis-server processes do not fit, StartFake (or RunFake)
// serves a FakeCluster: N masters, optionally one replica each, on loopback listeners
// in this process, built on the resp codec, with a consistent slot map, MoveSlot,
// SetClusterDown and counters of the commands received by kind:
//
//	f := redistest.RunFake(t, redistest.FakeConfig{Masters: 1000})
//	f.MoveSlot(42, 7)                      // master 7 serves slot 42; its old owner answers MOVED
//	f.SetClusterDown(5 * time.Second)      // data commands get CLUSTERDOWN for 5s
//	n := f.Counts().Topology               // CLUSTER SHARDS/SLOTS/NODES received so far
package redistest
