package systest

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redline-go/redline"
	"github.com/redline-go/redline/internal/testkit"
	"github.com/redline-go/redline/redistest"
)

// TestReliabilitySecurity runs on a TLS cluster with a password (3 masters) and checks:
// TLS verification is on unless turned off (no silent InsecureSkipVerify) and the
// caller's tls.Config is never modified; certificates are checked against the IP
// addresses the topology reports when ServerName is empty, and an explicit ServerName
// is kept for every node; ACL users without a permission get the server's NOPERM
// error, clearly, at once, never retried or hidden; passwords never appear in errors,
// logs or printed Options; and a credentials callback is asked again at every
// reconnection, so a rotated password takes effect without a new client.
func TestReliabilitySecurity(t *testing.T) {
	t.Parallel()
	const password = "Pw-never-printed-7f3a"
	cl := redistest.Run(t, redistest.Config{Masters: 3, TLS: true, Password: password})
	ctx := t.Context()
	topo, err := cl.Topology(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var keys []string // one key on each master
	for _, m := range topo.Masters() {
		keys = append(keys, topo.KeyOn(t, m.Node, "sec"))
	}
	newClient := func(o redline.Options) (*redline.Client, error) {
		if len(o.Addrs) == 0 {
			o.Addrs = cl.Addrs()
		}
		if o.CommandTimeout == 0 {
			o.CommandTimeout = 2 * time.Second
		}
		c, err := redline.NewClient(t.Context(), o)
		if err == nil {
			t.Cleanup(func() { c.Close() })
		}
		return c, err
	}
	everyShard := func(c *redline.Client) error {
		for _, k := range keys {
			if err := c.Do(t.Context(), "SET", k, "v").Err(); err != nil {
				return err
			}
		}
		return nil
	}

	t.Run("TLS verification is on by default", func(t *testing.T) {
		// A tls.Config that does not trust the cluster's CA: the system roots only.
		_, err := newClient(redline.Options{Password: redline.NewSecret(password), TLSConfig: &tls.Config{}})
		var ua x509.UnknownAuthorityError
		var ne *redline.NodeError
		if !errors.As(err, &ua) || !errors.As(err, &ne) || ne.Phase != redline.PhaseTLS {
			t.Fatalf("an untrusted certificate was accepted or misreported: %v", err)
		}
		if strings.Contains(err.Error(), "tls: tls:") {
			t.Errorf("doubled prefix: %v", err)
		}
		testkit.Figure(t, "untrusted certificate: %q", err.Error())
		// The caller's config is used as given and never modified.
		conf := cl.TLSConfig().Clone()
		conf.ServerName = ""
		c, err := newClient(redline.Options{Password: redline.NewSecret(password), TLSConfig: conf})
		if err != nil {
			t.Fatal(err)
		}
		if err := everyShard(c); err != nil {
			t.Fatal(err)
		}
		if conf.ServerName != "" || conf.InsecureSkipVerify {
			t.Errorf("the caller's tls.Config was modified: ServerName %q, InsecureSkipVerify %v", conf.ServerName, conf.InsecureSkipVerify)
		}
	})

	t.Run("server names when the topology reports IPs", func(t *testing.T) {
		// The nodes announce 127.0.0.1; their certificates name localhost and 127.0.0.1.
		for _, name := range []string{"", "localhost"} {
			conf := cl.TLSConfig().Clone()
			conf.ServerName = name
			c, err := newClient(redline.Options{Password: redline.NewSecret(password), TLSConfig: conf})
			if err != nil {
				t.Fatalf("ServerName %q: %v", name, err)
			}
			if err := everyShard(c); err != nil {
				t.Fatalf("ServerName %q: %v", name, err)
			}
		}
		// An explicit name is checked against every node, never replaced by the IP.
		conf := cl.TLSConfig().Clone()
		conf.ServerName = "wrong.example"
		_, err := newClient(redline.Options{Password: redline.NewSecret(password), TLSConfig: conf})
		var he x509.HostnameError
		if !errors.As(err, &he) || !strings.Contains(err.Error(), "wrong.example") {
			t.Fatalf("ServerName wrong.example: %v, want a hostname error", err)
		}
		testkit.Figure(t, "explicit ServerName that no certificate names: %q", err.Error())
	})

	t.Run("ACL users get clear NOPERM errors", func(t *testing.T) {
		acl := func(args ...any) {
			for _, m := range topo.Masters() {
				if _, err := m.Node.Do(ctx, append([]any{"ACL", "SETUSER"}, args...)...); err != nil {
					t.Fatal(err)
				}
			}
		}
		acl("reader", "reset", "on", ">reader-pw", "~sec:*", "-@all", "+@connection", "+get", "+cluster|shards", "+cluster|slots")
		acl("nocluster", "reset", "on", ">nocluster-pw", "~*", "-@all", "+@connection", "+get")
		c, err := newClient(redline.Options{Username: "reader", Password: redline.NewSecret("reader-pw"), TLSConfig: cl.TLSConfig(), MaxAttempts: 5})
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Do(ctx, "GET", keys[0]).Err(); err != nil && !errors.Is(err, redline.Nil) {
			t.Fatalf("a permitted GET: %v", err)
		}
		for _, tc := range []struct {
			args []any
			want string
		}{
			{[]any{"SET", keys[0], "x"}, "'set' command"},
			{[]any{"GET", "other:key"}, "access"}, // Redis: "…access one of the keys…", Valkey: "…access a key"
		} {
			start := time.Now()
			err := c.Do(ctx, tc.args...).Err()
			var re *redline.RedisError
			var ne *redline.NodeError
			if !errors.As(err, &re) || re.Code != "NOPERM" || !strings.Contains(strings.ToLower(err.Error()), tc.want) || errors.As(err, &ne) {
				t.Errorf("%v: %v, want the server's NOPERM error mentioning %q", tc.args, err, tc.want)
			}
			if el := time.Since(start); el > 100*time.Millisecond {
				t.Errorf("%v: the NOPERM answer took %v (retried?)", tc.args, el)
			}
			testkit.Figure(t, "%v as a restricted user: %q", tc.args[0], err.Error())
		}
		_, err = newClient(redline.Options{Username: "nocluster", Password: redline.NewSecret("nocluster-pw"), TLSConfig: cl.TLSConfig()})
		if err == nil || !strings.Contains(err.Error(), "NOPERM") || !strings.Contains(strings.ToLower(err.Error()), "cluster") {
			t.Fatalf("a user without CLUSTER SHARDS: %v, want NOPERM naming the command", err)
		}
		testkit.Figure(t, "NewClient as a user without CLUSTER SHARDS: %q", err.Error())
	})

	t.Run("passwords never printed", func(t *testing.T) {
		o := redline.Options{Addrs: cl.Addrs(), Username: "u", Password: redline.NewSecret(password), TLSConfig: cl.TLSConfig(),
			Credentials: func(context.Context) (string, string, error) { return "u", password, nil }}
		type Exported struct{ Opts redline.Options }
		var logged strings.Builder
		slog.New(slog.NewJSONHandler(&logged, nil)).Info("opts", "o", o, "p", &o)
		slog.New(slog.NewTextHandler(&logged, nil)).Info("opts", "o", o)
		printed := []string{fmt.Sprint(o), fmt.Sprintf("%+v", o), fmt.Sprintf("%#v", o), fmt.Sprintf("%v", &o),
			fmt.Sprintf("%+v", Exported{o}), fmt.Sprintf("%v", []redline.Options{o}), logged.String()}
		for _, s := range printed {
			if strings.Contains(s, password) {
				t.Errorf("the password was printed: %s", s)
			}
		}
		// Errors: a wrong password (static, and from the callback) is never echoed.
		const wrong = "Wrong-pw-also-secret-91c2"
		var logs lockedBuffer
		logger := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
		for _, o := range []redline.Options{
			{Password: redline.NewSecret(wrong), TLSConfig: cl.TLSConfig(), Logger: logger},
			{Credentials: func(context.Context) (string, string, error) { return "", wrong, nil }, TLSConfig: cl.TLSConfig(), Logger: logger},
		} {
			_, err := newClient(o)
			var re *redline.RedisError
			if !errors.As(err, &re) || re.Code != "WRONGPASS" {
				t.Fatalf("wrong password: %v", err)
			}
			if strings.Contains(err.Error(), wrong) || strings.Contains(err.Error(), password) {
				t.Errorf("a password in an error: %v", err)
			}
		}
		// Logs of a working client through connection losses, a refused node, refreshes.
		c, err := newClient(redline.Options{Password: redline.NewSecret(password), TLSConfig: cl.TLSConfig(), Logger: logger, RefreshMinInterval: 50 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		if err := everyShard(c); err != nil {
			t.Fatal(err)
		}
		victim := topo.Masters()[0].Node
		victim.SetFault(redistest.Refuse)
		for range 5 {
			c.Do(t.Context(), "GET", keys[0])
		}
		victim.SetFault(redistest.Pass)
		redistest.Poll(5*time.Second, func() bool { return everyShard(c) == nil })
		c.Close()
		if logs.String() == "" {
			t.Fatal("nothing was logged: the check means nothing")
		}
		if s := logs.String(); strings.Contains(s, password) || strings.Contains(s, wrong) {
			t.Errorf("a password in the logs:\n%s", s)
		}
	})

	t.Run("credentials callback on reconnect", func(t *testing.T) {
		acl := func(args ...any) {
			for _, m := range topo.Masters() {
				if _, err := m.Node.Do(ctx, append([]any{"ACL", "SETUSER"}, args...)...); err != nil {
					t.Fatal(err)
				}
			}
		}
		if cl.Server().AtLeast(6, 2) {
			acl("rotator", "reset", "on", ">rotate-1", "~*", "&*", "+@all") // channel rules are 6.2+
		} else {
			acl("rotator", "reset", "on", ">rotate-1", "~*", "+@all")
		}
		var current atomic.Value
		current.Store("rotate-1")
		var asked atomic.Int64
		c, err := newClient(redline.Options{TLSConfig: cl.TLSConfig(), Credentials: func(ctx context.Context) (string, string, error) {
			asked.Add(1)
			return "rotator", current.Load().(string), nil
		}})
		if err != nil {
			t.Fatal(err)
		}
		if err := everyShard(c); err != nil {
			t.Fatal(err)
		}
		before := asked.Load()
		// Rotate: the servers now accept only the new password; the client's secret
		// source has it too. Existing connections stay authenticated until they drop.
		acl("rotator", "resetpass", ">rotate-2")
		current.Store("rotate-2")
		for _, m := range topo.Masters() {
			if _, err := m.Node.Do(ctx, "CLIENT", "KILL", "USER", "rotator"); err != nil {
				t.Fatal(err)
			}
		}
		start := time.Now()
		for {
			err := everyShard(c)
			if err == nil {
				break
			}
			if time.Since(start) > 5*time.Second {
				t.Fatalf("the client did not reconnect with the rotated password within 5s: %v", err)
			}
			time.Sleep(20 * time.Millisecond)
		}
		if n := asked.Load() - before; n < 3 {
			t.Errorf("the callback was asked %d times after the connections dropped, want at least once per node (3)", n)
		}
		if _, err := newClient(redline.Options{Username: "rotator", Password: redline.NewSecret("rotate-1"), TLSConfig: cl.TLSConfig()}); err == nil {
			t.Error("the old password still works: the rotation did not happen")
		}
		testkit.Figure(t, "credentials rotated and connections dropped: every shard served again after %v; the callback was asked %d times (once per new connection)",
			time.Since(start).Round(time.Millisecond), asked.Load()-before)
	})
}
