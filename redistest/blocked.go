package redistest

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

// Blocked reports whether a client connection named name (CLIENT SETNAME, or a
// client library's client-name option) is blocked on n in a blocking command (BLPOP,
// BZPOPMIN, XREAD BLOCK, WAIT…): CLIENT LIST shows it with the b flag.
func (n *Node) Blocked(ctx context.Context, name string) (bool, error) {
	if name == "" {
		return false, errors.New("redistest: Blocked needs a client name")
	}
	v, err := n.Do(ctx, "CLIENT", "LIST")
	if err != nil {
		return false, err
	}
	for _, line := range strings.Split(string(v.Str), "\n") {
		var named, blocked bool
		for _, f := range strings.Fields(line) {
			switch {
			case f == "name="+name:
				named = true
			case strings.HasPrefix(f, "flags="):
				blocked = strings.Contains(f[len("flags="):], "b")
			}
		}
		if named && blocked {
			return true, nil
		}
	}
	return false, nil
}

// Blocked reports whether a client connection named name is blocked in a blocking
// command on some running node of c (see Node.Blocked).
func (c *Cluster) Blocked(ctx context.Context, name string) (bool, error) {
	var lastErr error
	for _, n := range c.nodes {
		if !n.Running() || n.Paused() {
			continue
		}
		b, err := n.Blocked(ctx, name)
		if err != nil {
			lastErr = err
			continue
		}
		if b {
			return true, nil
		}
	}
	return false, lastErr
}

// WaitBlocked waits until a client connection named name is blocked in a blocking
// command on some running node of c (see Node.Blocked), and fails tb when none is
// within the bound. A test that means to act while a call is blocked (push the element
// a BLPOP waits for) awaits this instead of sleeping and hoping.
func (c *Cluster) WaitBlocked(tb testing.TB, name string, within time.Duration) {
	tb.Helper()
	var lastErr error
	ok := Poll(within, func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		b, err := c.Blocked(ctx, name)
		lastErr = err
		return b
	})
	if !ok {
		tb.Fatalf("redistest: no client named %q blocked on any node after %v (last error: %v)", name, within, lastErr)
	}
}
