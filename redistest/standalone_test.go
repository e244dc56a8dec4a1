package redistest

import (
	"errors"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redline-go/redline/resp"
)

// do sends one command on c and returns its reply, within timeout.
func (c *rawConn) do(timeout time.Duration, args ...string) (resp.Value, error) {
	c.SetDeadline(time.Now().Add(timeout))
	if _, err := c.Write(resp.AppendCommandStrings(nil, args...)); err != nil {
		return resp.Value{}, err
	}
	v, err := c.rd.ReadValue()
	if err == nil && v.Err != nil {
		err = v.Err
	}
	return v, err
}

// doNew dials addr, optionally authenticates, runs one command and closes.
func doNew(addr, password string, args ...string) (resp.Value, error) {
	c, err := dialRaw(addr, nil, 2*time.Second)
	if err != nil {
		return resp.Value{}, err
	}
	defer c.Close()
	if password != "" {
		if _, err := c.do(2*time.Second, "AUTH", password); err != nil {
			return resp.Value{}, err
		}
	}
	return c.do(2*time.Second, args...)
}

func TestStandalone(t *testing.T) {
	s := RunStandalone(t, StandaloneConfig{Replicas: 1, Password: "pw"})
	if len(s.Nodes()) != 2 || s.Primary() != s.Node(0) || s.Replicas()[0] != s.Node(1) || s.Addr() != s.Addrs()[0] ||
		len(s.ReplicaAddrs()) != 1 || s.ReplicaAddrs()[0] != s.Addrs()[1] {
		t.Fatalf("nodes %v, addrs %v, replica addrs %v", s.Nodes(), s.Addrs(), s.ReplicaAddrs())
	}
	if v, err := s.Primary().Do(t.Context(), "INFO", "cluster"); err != nil || !strings.Contains(string(v.Str), "cluster_enabled:0") {
		t.Fatalf("INFO cluster on the primary: %v %v", v, err)
	}
	if role, err := s.Node(1).Role(t.Context()); err != nil || role != "slave" {
		t.Fatalf("the replica's ROLE: %q %v", role, err)
	}
	if _, err := doNew(s.Addr(), "", "PING"); err == nil || !strings.Contains(err.Error(), "NOAUTH") {
		t.Fatalf("PING without the password: %v", err)
	}
	if _, err := doNew(s.Addr(), "pw", "SET", "k", "v"); err != nil {
		t.Fatal(err)
	}
	// Through the proxies: the primary names its replica by the replica's proxy.
	// Start waited until the primary lists its replica (for WAIT and ROLE).
	v, err := doNew(s.Addr(), "pw", "ROLE")
	if err != nil || len(v.Elems) != 3 || len(v.Elems[2].Elems) != 1 ||
		!strings.Contains(v.String(), s.Node(1).Addr()[len("127.0.0.1:"):]) {
		t.Fatalf("ROLE on the primary: %v %v, want replica %v", v, err, s.Node(1))
	}
	Eventually(t, 5*time.Second, func() bool {
		v, err := doNew(s.Node(1).Addr(), "pw", "GET", "k")
		return err == nil && string(v.Str) == "v"
	}, "the replica never served the write")
	if v, err := doNew(s.Addr(), "pw", "CLUSTER", "INFO"); err == nil {
		t.Fatalf("CLUSTER INFO on a standalone server: %v", v)
	}

	// A fault on the primary's proxy; the harness's own connection goes around it.
	if err := s.Primary().SetFault(Refuse); err != nil {
		t.Fatal(err)
	}
	if _, err := doNew(s.Addr(), "pw", "PING"); !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("PING through a refusing proxy: %v", err)
	}
	if _, err := s.Primary().Do(t.Context(), "PING"); err != nil {
		t.Fatalf("the harness's PING: %v", err)
	}
	if err := s.Primary().SetFault(Pass); err != nil {
		t.Fatal(err)
	}
	if err := s.WaitHealthy(t.Context()); err != nil {
		t.Fatal(err)
	}

	// A restarted replica comes back replicating the primary (its configuration file).
	if err := s.Node(1).Restart(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := s.WaitHealthy(t.Context()); err != nil {
		t.Fatal(err)
	}
	pids, dir := s.PIDs(), s.Dir()
	if len(pids) != 2 {
		t.Fatalf("PIDs %v", pids)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := checkGone(pids, dir); err != nil {
		t.Fatal(err)
	}
}

func TestSharedSets(t *testing.T) {
	a := SharedStandalone(t, "shared-test", StandaloneConfig{})
	if b := SharedStandalone(t, "shared-test", StandaloneConfig{Replicas: 3}); b != a {
		t.Fatal("SharedStandalone started a second deployment for the same name")
	}
	pids, dir := a.PIDs(), a.Dir()
	if _, err := a.Primary().Do(t.Context(), "PING"); err != nil {
		t.Fatal(err)
	}
	if err := closeSharedSets(); err != nil {
		t.Fatal(err)
	}
	if err := checkGone(pids, dir); err != nil {
		t.Fatal(err)
	}
	if c := SharedStandalone(t, "shared-test", StandaloneConfig{}); c == a {
		t.Fatal("after closeSharedSets, the closed deployment came back")
	}
}
