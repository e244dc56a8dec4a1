package systest

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/redline-go/redline"
	"github.com/redline-go/redline/redistest"
)

// A command missing from the generated table (HEXPIRE on Redis 7.0) is looked up
// with COMMAND INFO within the caller's deadline. When the lookup used up the
// deadline on a busy node, the command itself used to be sent anyway and waited for
// with no deadline at all (the waiter's tick had been consumed): CommandTimeout
// 100ms, node busy 1s → the call returned after about 1s. Now it ends at its deadline,
// and its error says what it was waiting for.
func TestDeadlineAfterSlowCommandLookup(t *testing.T) {
	cl := plain(t)
	c := newTestClient(t, cl, redline.Options{CommandTimeout: 100 * time.Millisecond})
	if err := c.Do(t.Context(), "DBSIZE").Err(); err != nil { // connects every primary
		t.Fatal(err)
	}
	var primaries []*redistest.Node
	for _, n := range cl.Nodes() {
		if role, err := n.Role(t.Context()); err == nil && role == "master" {
			primaries = append(primaries, n)
		}
	}
	for _, n := range primaries {
		if err := n.SetFault(redistest.Slow(time.Second)); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { n.SetFault(redistest.Pass) })
	}
	for i := range 3 {
		start := time.Now()
		err := c.Do(context.Background(), "HEXPIRE", "sticky:h", 10, "FIELDS", 1, "f").Err()
		el := time.Since(start)
		if el > 150*time.Millisecond {
			t.Errorf("call %d returned after %v with %v; the deadline was 100ms", i, el, err)
		}
		var de *redline.DeadlineError
		if !errors.As(err, &de) || !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("call %d: got %v, want a deadline error", i, err)
		}
		if !strings.Contains(err.Error(), "COMMAND INFO hexpire") || de.Elapsed < 100*time.Millisecond {
			t.Errorf("call %d: %v: want the lookup named and the time from the call's start", i, err)
		}
	}
}
