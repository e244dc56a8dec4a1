package redistest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/redline-go/redline/resp"
)

// Node is one redis-server process of a Cluster (or of a Standalone or SentinelSet),
// with the fault proxy in front of it.
type Node struct {
	cluster *Cluster
	index   int
	name    string // when set, what String calls the node ("sentinel-1") instead of "node <index>"
	id      string // cluster node ID, stable across restarts (kept in nodes.conf)

	port      int // the server's own port
	busPort   int // the cluster bus port
	proxyPort int // the port the node announces (== port with NoProxy)
	dir       string
	hostname  string // announced with Config.Hostnames, else ""
	certFile  string // the node's own certificate and key (Config.Hostnames with TLS), else the
	keyFile   string // cluster's shared ones
	proxy     *Proxy
	admin     *adminConn
	argv      []string                        // when set, the command line instead of the cluster's (a config file)
	ready     func(ctx context.Context) error // when set, run once the started process answers PING

	mu      sync.Mutex
	cmd     *exec.Cmd
	exited  chan struct{} // closed when the current process has exited
	paused  bool
	stderr  *bytes.Buffer
	exitErr error
}

// Index returns the node's position in Cluster.Nodes (masters first, then replicas).
func (n *Node) Index() int { return n.index }

// Zone returns the node's availability zone as Config.Zones sets it ("" none).
func (n *Node) Zone() string {
	if z := n.cluster.cfg.Zones; n.index < len(z) {
		return z[n.index]
	}
	return ""
}

// ID returns the node's cluster ID.
func (n *Node) ID() string { return n.id }

// Addr returns the address the node announces to the cluster and clients: the proxy's.
func (n *Node) Addr() string { return "127.0.0.1:" + strconv.Itoa(n.proxyPort) }

// Hostname returns the hostname the node announces, "node<i>.redline.test" (the only name
// its certificate is valid for, with TLS), or "" without Config.Hostnames.
func (n *Node) Hostname() string { return n.hostname }

// ServerAddr returns the redis-server's own address, behind the proxy.
func (n *Node) ServerAddr() string { return "127.0.0.1:" + strconv.Itoa(n.port) }

// Proxy returns the node's fault proxy, or nil with Config.NoProxy.
func (n *Node) Proxy() *Proxy { return n.proxy }

// SetFault switches the node's proxy to m. It fails with Config.NoProxy.
func (n *Node) SetFault(m Mode) error {
	if n.proxy == nil {
		return errors.New("redistest: fault modes need the proxy (Config.NoProxy is set)")
	}
	n.cluster.cfg.logf("redistest: %s: fault %v", n.label(), m)
	return n.proxy.SetMode(m)
}

// Dir returns the node's working directory (nodes.conf, redis.log).
func (n *Node) Dir() string { return n.dir }

// PID returns the process ID of the running redis-server, or 0 when it is not running.
func (n *Node) PID() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.cmd == nil || n.cmd.Process == nil || n.isExited() {
		return 0
	}
	return n.cmd.Process.Pid
}

// Running reports whether the process is alive (paused counts as running).
func (n *Node) Running() bool { return n.PID() != 0 }

// Do sends one command straight to the server (not through the proxy) and returns the
// reply. A server error reply is returned as a *resp.Error. The context bounds the call;
// without a deadline, 10 s applies.
func (n *Node) Do(ctx context.Context, args ...any) (resp.Value, error) {
	return n.admin.do(ctx, args...)
}

// Role returns "master" or "slave" as the node itself reports it (ROLE).
func (n *Node) Role(ctx context.Context) (string, error) {
	v, err := n.Do(ctx, "ROLE")
	if err != nil {
		return "", err
	}
	if len(v.Elems) == 0 {
		return "", fmt.Errorf("redistest: unexpected ROLE reply %s", v.String())
	}
	return text(v.Elems[0])
}

func (n *Node) args() []string {
	if n.argv != nil {
		return n.argv
	}
	cfg := n.cluster.cfg
	srv := cfg.server
	a := []string{
		"--bind", "127.0.0.1",
		"--dir", n.dir,
		"--logfile", filepath.Join(n.dir, "redis.log"),
		"--daemonize", "no",
		"--save", "",
		"--appendonly", "no",
		"--cluster-enabled", "yes",
		"--cluster-config-file", filepath.Join(n.dir, "nodes.conf"),
		"--cluster-node-timeout", strconv.FormatInt(cfg.NodeTimeout.Milliseconds(), 10),
		"--cluster-announce-ip", "127.0.0.1",
		"--cluster-announce-bus-port", strconv.Itoa(n.busPort),
	}
	if srv.AtLeast(7, 0) {
		a = append(a,
			"--cluster-port", strconv.Itoa(n.busPort), // before 7.0 the bus is port+10000 (see newNode)
			"--cluster-allow-replica-migration", "no",
			"--enable-debug-command", "local",
		)
	} else {
		a = append(a, "--cluster-migration-barrier", "999", // no replica migration
			"--repl-ping-replica-period", "1") // see Cluster.Failover
	}
	if cfg.TLS {
		p := n.cluster.pki
		auth := "no"
		if cfg.ClientAuth {
			auth = "yes"
		}
		a = append(a,
			"--port", "0",
			"--tls-port", strconv.Itoa(n.port),
			"--tls-cluster", "yes",
			"--tls-replication", "yes",
			"--tls-cert-file", n.certFile,
			"--tls-key-file", n.keyFile,
			"--tls-ca-cert-file", p.caFile,
			"--tls-auth-clients", auth,
		)
		if srv.AtLeast(7, 0) {
			a = append(a, "--cluster-announce-tls-port", strconv.Itoa(n.proxyPort))
		} else { // 6.x announces the TLS port as the port
			a = append(a, "--cluster-announce-port", strconv.Itoa(n.proxyPort))
		}
	} else {
		a = append(a, "--port", strconv.Itoa(n.port), "--cluster-announce-port", strconv.Itoa(n.proxyPort))
	}
	if n.hostname != "" {
		a = append(a, "--cluster-announce-hostname", n.hostname, "--cluster-preferred-endpoint-type", "ip")
	}
	if cfg.Password != "" {
		a = append(a, "--requirepass", cfg.Password, "--masterauth", cfg.Password)
	}
	if z := n.Zone(); z != "" {
		a = append(a, "--availability-zone", z)
	}
	return append(a, cfg.ServerArgs...)
}

// start launches the process and waits until it answers PING.
func (n *Node) start(ctx context.Context) error {
	n.mu.Lock()
	if n.cmd != nil && !n.isExited() {
		n.mu.Unlock()
		return fmt.Errorf("redistest: node %d is already running", n.index)
	}
	cmd := exec.Command(n.cluster.cfg.RedisServer, n.args()...)
	cmd.Dir = n.dir
	n.stderr = &bytes.Buffer{}
	cmd.Stdout = n.stderr
	cmd.Stderr = n.stderr
	cmd.SysProcAttr = childProcAttr()
	if err := cmd.Start(); err != nil {
		n.mu.Unlock()
		return fmt.Errorf("redistest: start %s: %w", n.cluster.cfg.RedisServer, err)
	}
	n.cmd, n.paused, n.exitErr = cmd, false, nil
	exited := make(chan struct{})
	n.exited = exited
	n.mu.Unlock()
	n.cluster.track(cmd.Process.Pid)
	go func() {
		err := cmd.Wait()
		n.mu.Lock()
		n.exitErr = err
		n.mu.Unlock()
		n.cluster.untrack(cmd.Process.Pid)
		close(exited)
	}()
	if err := n.waitReady(ctx, exited); err != nil || n.ready == nil {
		return err
	}
	return n.ready(ctx)
}

// waitReady polls PING until the server answers, its process exits or ctx ends.
func (n *Node) waitReady(ctx context.Context, exited <-chan struct{}) error {
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		pctx, cancel := context.WithTimeout(ctx, time.Second)
		_, err := n.Do(pctx, "PING")
		cancel()
		if err == nil {
			return nil
		}
		select {
		case <-exited:
			return fmt.Errorf("redistest: node %d (redis-server on port %d) exited during start: %s%s",
				n.index, n.port, n.exitDetail(), n.logTail(5))
		case <-ctx.Done():
			return fmt.Errorf("redistest: node %d not ready: %w (last: %v)", n.index, ctx.Err(), err)
		case <-tick.C:
		}
	}
}

func (n *Node) exitDetail() string {
	n.mu.Lock()
	defer n.mu.Unlock()
	s := fmt.Sprint(n.exitErr)
	if n.stderr != nil && n.stderr.Len() > 0 {
		s += ": " + string(bytes.TrimSpace(n.stderr.Bytes()))
	}
	return s
}

// logTail returns the last lines of the node's redis.log, for error messages.
func (n *Node) logTail(lines int) string {
	b, err := os.ReadFile(filepath.Join(n.dir, "redis.log"))
	if err != nil || len(b) == 0 {
		return ""
	}
	all := bytes.Split(bytes.TrimSpace(b), []byte("\n"))
	if len(all) > lines {
		all = all[len(all)-lines:]
	}
	return "\nredis.log:\n" + string(bytes.Join(all, []byte("\n")))
}

// isExited reports whether the current process has exited; n.mu must be held.
func (n *Node) isExited() bool {
	if n.exited == nil {
		return true
	}
	select {
	case <-n.exited:
		return true
	default:
		return false
	}
}

// Kill sends SIGKILL to the server and waits until it has exited. The proxy stays up
// (clients connecting get their connection closed at once), as does the node's data
// directory, so Restart brings the same node back.
func (n *Node) Kill() error {
	n.mu.Lock()
	cmd, exited := n.cmd, n.exited
	n.mu.Unlock()
	if cmd == nil || exited == nil {
		return nil
	}
	n.cluster.cfg.logf("redistest: %s: kill", n.label())
	// The whole process group: a server's forked children (an RDB transfer to a
	// replica) must not outlive it.
	pid := cmd.Process.Pid
	syscall.Kill(-pid, syscall.SIGKILL)
	cmd.Process.Kill()
	<-exited
	n.admin.close()
	return waitGroupGone(pid)
}

// waitGroupGone waits until no process of group pgid is left: the server's forked
// children are reaped by init, not by us, a moment after they die.
func waitGroupGone(pgid int) error {
	deadline := time.Now().Add(5 * time.Second)
	for syscall.Kill(-pgid, 0) == nil {
		if time.Now().After(deadline) {
			return fmt.Errorf("redistest: process group %d still has processes 5s after SIGKILL", pgid)
		}
		syscall.Kill(-pgid, syscall.SIGKILL)
		time.Sleep(2 * time.Millisecond)
	}
	return nil
}

// Restart kills the server if it runs, starts it again with the same ports, directory
// and node ID, and waits until it answers PING. It does not wait for the cluster to
// agree again: use Cluster.WaitHealthy for that.
func (n *Node) Restart(ctx context.Context) error {
	ctx, cancel := bounded(ctx)
	defer cancel()
	if err := n.Kill(); err != nil {
		return err
	}
	n.cluster.cfg.logf("redistest: %s: restart", n.label())
	return n.start(ctx)
}

// Pause stops the process with SIGSTOP: connections stay open and nothing answers,
// on the client path and on the cluster bus alike.
func (n *Node) Pause() error { return n.signal(syscall.SIGSTOP, true) }

// Resume continues a paused process (SIGCONT).
func (n *Node) Resume() error { return n.signal(syscall.SIGCONT, false) }

func (n *Node) signal(sig syscall.Signal, paused bool) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.cmd == nil || n.isExited() {
		return fmt.Errorf("redistest: node %d is not running", n.index)
	}
	n.cluster.cfg.logf("redistest: %s: %v", n.label(), sig)
	n.paused = paused
	return syscall.Kill(-n.cmd.Process.Pid, sig) // the group: forked children too
}

// Paused reports whether the node was paused with Pause and not resumed since.
func (n *Node) Paused() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.paused && !n.isExited()
}

// label names the node in log lines: "node 2 (127.0.0.1:port)", "sentinel-1 (…)".
func (n *Node) label() string {
	if n.name != "" {
		return n.name + " (" + n.Addr() + ")"
	}
	return fmt.Sprintf("node %d (%s)", n.index, n.Addr())
}

// String returns "node 2 127.0.0.1:port" ("sentinel-1 127.0.0.1:port", "replica-2 …" in a
// Standalone or SentinelSet).
func (n *Node) String() string {
	if n.name != "" {
		return n.name + " " + n.Addr()
	}
	return fmt.Sprintf("node %d %s", n.index, n.Addr())
}
