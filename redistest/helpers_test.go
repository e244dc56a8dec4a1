package redistest

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redline-go/redline/hashslot"
	"github.com/redline-go/redline/resp"
)

func TestPoll(t *testing.T) {
	var n atomic.Int32
	if !Poll(time.Second, func() bool { return n.Add(1) == 3 }) {
		t.Fatal("Poll gave up on a condition that became true on the third call")
	}
	start := time.Now()
	calls := 0
	if Poll(30*time.Millisecond, func() bool { calls++; return false }) {
		t.Fatal("Poll reported a condition that never held")
	}
	if el := time.Since(start); el < 30*time.Millisecond || el > 2*time.Second {
		t.Fatalf("Poll(30ms) of a false condition returned after %v", el)
	}
	if calls < 2 {
		t.Fatalf("Poll called cond %d times in 30ms", calls)
	}
	if !Poll(0, func() bool { return true }) {
		t.Fatal("Poll(0) must call cond once")
	}
}

// fakeTB records a test's failure without ending the calling goroutine.
type fakeTB struct {
	testing.TB
	failed   string
	cleanups []func()
}

func (f *fakeTB) Helper()                           {}
func (f *fakeTB) Fatalf(format string, args ...any) { f.Errorf(format, args...) }
func (f *fakeTB) Errorf(format string, args ...any) {
	f.failed = strings.TrimSpace(strings.Join([]string{f.failed, format}, " "))
}
func (f *fakeTB) Cleanup(fn func()) { f.cleanups = append(f.cleanups, fn) }
func (f *fakeTB) end() {
	for i := len(f.cleanups) - 1; i >= 0; i-- {
		f.cleanups[i]()
	}
}

func TestEventually(t *testing.T) {
	ok := &fakeTB{}
	Eventually(ok, time.Second, func() bool { return true }, "never")
	if ok.failed != "" {
		t.Fatalf("Eventually failed a true condition: %s", ok.failed)
	}
	bad := &fakeTB{}
	Eventually(bad, 20*time.Millisecond, func() bool { return false }, "node %d not down", 3)
	if !strings.Contains(bad.failed, "node %d not down") {
		t.Fatalf("Eventually of a false condition: failure %q", bad.failed)
	}
}

func TestNoGoroutineLeak(t *testing.T) {
	clean := &fakeTB{}
	NoGoroutineLeak(clean)
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() { <-stop; close(done) }()
	clean.Cleanup(func() { close(stop); <-done }) // runs before the check
	clean.end()
	if clean.failed != "" {
		t.Fatalf("a goroutine ended by a later cleanup was reported: %s", clean.failed)
	}
	if testing.Short() {
		t.Skip("the leak case waits the full 5 s bound")
	}
	leaky := &fakeTB{}
	NoGoroutineLeak(leaky)
	hold := make(chan struct{})
	defer close(hold)
	// Many, so that goroutines of earlier tests ending meanwhile (a cluster's proxies
	// shutting down) cannot hide them from the count (one leaked goroutine once was).
	for range 64 {
		go func() { <-hold }()
	}
	leaky.end()
	if !strings.Contains(leaky.failed, "goroutines") {
		t.Fatalf("a leaked goroutine was not reported: %q", leaky.failed)
	}
}

func TestFakeKeyOn(t *testing.T) {
	f := RunFake(t, FakeConfig{Masters: 5})
	for m := range 5 {
		k, s := f.KeyOn(m, "p")
		if !strings.HasPrefix(k, "p:") || hashslot.Key(k) != s || f.SlotOwner(s) != m {
			t.Fatalf("KeyOn(%d) = %q, %d (owner %d)", m, k, s, f.SlotOwner(s))
		}
	}
}

func TestKeyOnAndShared(t *testing.T) {
	c := plainCluster(t)
	if again := Shared(t, "plain", Config{}); again != c {
		t.Fatal("Shared started a second cluster for the same name")
	}
	ctx := t.Context()
	topo, err := c.Topology(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range topo.Masters() {
		k := c.KeyOn(t, m.Node, "q")
		if o := topo.Owner(hashslot.Key(k)); o == nil || o.Node != m.Node {
			t.Fatalf("KeyOn(%v) = %q, owned by %v", m.Node, k, o)
		}
	}
	r := topo.ReplicasOf(topo.Masters()[0].ID)[0].Node
	if k := topo.KeyOn(&fakeTB{}, r, "q"); k != "" {
		t.Fatalf("KeyOn found %q on a replica", k)
	}
}

func TestBounded(t *testing.T) {
	ctx, cancel := bounded(context.Background())
	defer cancel()
	if dl, ok := ctx.Deadline(); !ok || time.Until(dl) > DefaultWait || time.Until(dl) < DefaultWait-time.Second {
		t.Fatalf("a context without a deadline got %v (ok %v), want DefaultWait", time.Until(dl), ok)
	}
	want := time.Now().Add(time.Hour)
	parent, pcancel := context.WithDeadline(context.Background(), want)
	defer pcancel()
	ctx2, cancel2 := bounded(parent)
	defer cancel2()
	if dl, _ := ctx2.Deadline(); !dl.Equal(want) {
		t.Fatalf("a context's own deadline was changed: %v, want %v", dl, want)
	}
}

func TestWaitBlocked(t *testing.T) {
	c := plainCluster(t)
	n := c.Node(0)
	if _, err := n.Blocked(t.Context(), ""); err == nil {
		t.Fatal("Blocked without a name: no error")
	}
	name := "redistest-blocked-probe"
	if b, err := n.Blocked(t.Context(), name); err != nil || b {
		t.Fatalf("Blocked before any client: %v %v", b, err)
	}
	rc, err := dialRaw(n.ServerAddr(), c.TLSConfig(), 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	rc.SetDeadline(time.Now().Add(10 * time.Second))
	// A slot-free key would do: BLPOP checks the slot, so use one n serves.
	key := c.KeyOn(t, n, "blocked")
	if _, err := rc.Write(resp.AppendCommandStrings(nil, "CLIENT", "SETNAME", name)); err != nil {
		t.Fatal(err)
	}
	if v, err := rc.rd.ReadValue(); err != nil || string(v.Str) != "OK" {
		t.Fatalf("SETNAME: %v %v", v, err)
	}
	if _, err := rc.Write(resp.AppendCommandStrings(nil, "BLPOP", key, "5")); err != nil {
		t.Fatal(err)
	}
	c.WaitBlocked(t, name, 5*time.Second)
	if b, err := n.Blocked(t.Context(), name); err != nil || !b {
		t.Fatalf("Blocked while BLPOP waits: %v %v", b, err)
	}
	if _, err := n.Do(t.Context(), "RPUSH", key, "x"); err != nil {
		t.Fatal(err)
	}
	if v, err := rc.rd.ReadValue(); err != nil || len(v.Elems) != 2 {
		t.Fatalf("BLPOP: %v %v", v, err)
	}
	if b, err := c.Blocked(t.Context(), name); err != nil || b {
		t.Fatalf("Cluster.Blocked after the BLPOP was served: %v %v", b, err)
	}
	ft := &fakeTB{}
	c.WaitBlocked(ft, name, 50*time.Millisecond)
	if !strings.Contains(ft.failed, "no client named") {
		t.Fatalf("WaitBlocked with nothing blocked: %q", ft.failed)
	}
}
