package redistest

import (
	"errors"
	"fmt"
	"time"
)

// Config describes a cluster to start. The zero value is a 3-master cluster without
// replicas, TLS or password, with fault proxies in front of every node.
type Config struct {
	// Masters is the number of masters; the 16,384 slots are spread evenly over them.
	// 0 means 3.
	Masters int
	// ReplicasPerMaster is the number of replicas attached to each master. 0 means none.
	ReplicasPerMaster int
	// TLS makes every node speak TLS only (clients, replication and the cluster bus),
	// with certificates generated for the run. Cluster.TLSConfig returns the client
	// side. Enables the TLSBad proxy mode.
	TLS bool
	// ClientAuth makes the nodes require a client certificate (tls-auth-clients yes).
	// Cluster.TLSConfig presents one. Only with TLS.
	ClientAuth bool
	// Hostnames makes node i announce the hostname "node<i>.redline.test"
	// (cluster-announce-hostname) while its endpoint stays its IP address
	// (cluster-preferred-endpoint-type ip): CLUSTER SHARDS and CLUSTER SLOTS report the
	// IP with the hostname as metadata, as managed services do. With TLS, each node's
	// certificate names its hostname alone (no IP address), so a client must verify it
	// against the announced hostname. The names do not resolve: clients dial the IPs.
	// Needs Redis 7.0+ (or Valkey).
	Hostnames bool
	// Password, when set, is required from clients (requirepass) and used by replicas
	// and by the harness itself (masterauth). Empty means no password.
	Password string
	// NodeTimeout is cluster-node-timeout: how long a node may be unreachable before
	// the cluster fails it over. 0 means 2s.
	NodeTimeout time.Duration
	// ServerArgs are appended to every redis-server command line, e.g.
	// []string{"--maxmemory", "64mb"}. They may override the harness's settings.
	ServerArgs []string
	// NoProxy makes the nodes announce their own ports, with no proxy in front:
	// fault modes are unavailable, but nothing sits between client and server (for
	// benchmarks).
	NoProxy bool
	// RedisServer is the server binary: redis-server 6.0 or newer, or valkey-server.
	// "" means $REDLINE_REDIS_SERVER (see ServerEnv), else "redis-server" on PATH. What
	// differs between versions (the bus port option, ADDSLOTSRANGE, TLS announcements,
	// DEBUG) is adapted to the version the binary reports.
	RedisServer string
	// Zones are the nodes' availability zones, by index in Cluster.Nodes order (masters
	// first, then replicas: replica k of the list replicates master k mod Masters),
	// each passed as --availability-zone (kept across Restart). Nodes past the end of
	// the list, and "" entries, have none. Valkey 8.0 or newer only: Start refuses
	// zones on another server (ErrNoZones), rather than start a cluster without them.
	Zones []string
	// Dir is where the cluster's temporary directory is made. "" means os.TempDir().
	// The directory and everything in it are removed by Close.
	Dir string
	// Logf, when set, receives a line for each step of Start and for each node control
	// action (testing.TB.Logf fits).
	Logf func(format string, args ...any)

	server Server // what RedisServer reports itself to be
}

// defaultNodeTimeout is the cluster-node-timeout used when Config.NodeTimeout is 0.
const defaultNodeTimeout = 2 * time.Second

// InstallHint is the message given when redis-server cannot be found.
const InstallHint = "redis-server not found on PATH: run `make deps` (scripts/deps.sh installs redis-server " +
	"and redis-tools from Debian's packages; as root, or with passwordless sudo), or install Redis 7.0+ yourself"

// ErrNoRedisServer is returned by Start when the redis-server binary cannot be found.
var ErrNoRedisServer = errors.New(InstallHint)

// withDefaults validates c and fills its zero fields.
func (c Config) withDefaults() (Config, error) {
	if c.Masters == 0 {
		c.Masters = 3
	}
	if c.NodeTimeout == 0 {
		c.NodeTimeout = defaultNodeTimeout
	}
	switch {
	case c.Masters < 0 || c.Masters > 1000:
		return c, fmt.Errorf("redistest: Masters must be 1..1000, got %d", c.Masters)
	case c.ReplicasPerMaster < 0 || c.ReplicasPerMaster > 5:
		return c, fmt.Errorf("redistest: ReplicasPerMaster must be 0..5, got %d", c.ReplicasPerMaster)
	case c.NodeTimeout < 100*time.Millisecond:
		return c, fmt.Errorf("redistest: NodeTimeout must be at least 100ms, got %v", c.NodeTimeout)
	case c.ClientAuth && !c.TLS:
		return c, errors.New("redistest: ClientAuth needs TLS")
	}
	if c.RedisServer == "" {
		path, err := defaultServerPath()
		if err != nil {
			return c, err
		}
		c.RedisServer = path
	}
	s, err := ProbeServer(c.RedisServer)
	if err != nil {
		return c, err
	}
	if c.Hostnames && !s.AtLeast(7, 0) {
		return c, fmt.Errorf("redistest: Hostnames needs cluster-announce-hostname, new in Redis 7.0 (the server is %s)", s)
	}
	c.server = s
	if len(c.Zones) > 0 && !ZonesSupported(s) {
		return c, fmt.Errorf("%w; the cluster would run %s", ErrNoZones, s)
	}
	if total := c.Masters * (1 + c.ReplicasPerMaster); len(c.Zones) > total {
		return c, fmt.Errorf("redistest: Zones has %d entries for %d nodes", len(c.Zones), total)
	}
	c.Zones = append([]string(nil), c.Zones...)
	return c, nil
}

// ErrNoZones is returned by Start when Config.Zones is set and the server has no
// availability-zone setting.
var ErrNoZones = errors.New("redistest: Config.Zones needs Valkey 8.0 or newer (its availability-zone setting); Redis has none")

// ZonesSupported reports whether s has the availability-zone setting (Valkey 8.0+),
// which Config.Zones needs.
func ZonesSupported(s Server) bool { return s.Valkey() && s.AtLeast(8, 0) }

func (c Config) logf(format string, args ...any) {
	if c.Logf != nil {
		c.Logf(format, args...)
	}
}
