package redline

import (
	"context"
	"errors"
	"reflect"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"

	"github.com/redline-go/redline/internal/cluster"
)

// TestResultLayout: resultsOf and commandArgs view engine slices as the root's types
// with unsafe.Slice: Result and cluster.Reply must have the same fields (name, type,
// offset) in the same order, and a Command must be exactly its []any.
func TestResultLayout(t *testing.T) {
	t.Parallel()
	r, e := reflect.TypeFor[Result](), reflect.TypeFor[cluster.Reply]()
	if r.Size() != e.Size() || r.Align() != e.Align() || r.NumField() != e.NumField() {
		t.Fatalf("Result (size %d, %d fields) and cluster.Reply (size %d, %d fields) differ", r.Size(), r.NumField(), e.Size(), e.NumField())
	}
	for i := range r.NumField() {
		a, b := r.Field(i), e.Field(i)
		if a.Name != b.Name || a.Type != b.Type || a.Offset != b.Offset {
			t.Errorf("field %d: Result.%s %v @%d, cluster.Reply.%s %v @%d", i, a.Name, a.Type, a.Offset, b.Name, b.Type, b.Offset)
		}
	}
	c := reflect.TypeFor[Command]()
	if c.Size() != unsafe.Sizeof([]any(nil)) || c.NumField() != 1 || c.Field(0).Type != reflect.TypeFor[[]any]() {
		t.Errorf("Command is not exactly one []any: %d fields, size %d", c.NumField(), c.Size())
	}
	// And the views round-trip the values.
	rs := []cluster.Reply{cluster.ErrorReply(ErrClosed)}
	if got := resultsOf(rs); len(got) != 1 || !errors.Is(got[0].Err(), ErrClosed) {
		t.Errorf("resultsOf: %+v", got)
	}
	cmds := []Command{Cmd("GET", "k")}
	if got := commandArgs(cmds); len(got) != 1 || got[0][1] != "k" {
		t.Errorf("commandArgs: %v", got)
	}
}

// TestClosedDoSkipsHooks: before the split, Do on a closed client returned
// ErrClosed before the command hooks (router.go Do checked closed, then hooked); now
// the closed check is in the engine, under the hooks, so BeforeCommand/AfterCommand
// see a call that never started.
func TestClosedDoSkipsHooks(t *testing.T) {
	if !hooksBuilt {
		t.Skip("hooks compiled out")
	}
	var before, after atomic.Int32
	c := newTestClient(t, plain(t), Options{Hooks: Hooks{
		BeforeCommand: func(ctx context.Context, _ CommandStart) context.Context { before.Add(1); return ctx },
		AfterCommand:  func(context.Context, CommandEnd) { after.Add(1) },
	}})
	c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.Do(ctx, "GET", "k").Err(); !errors.Is(err, ErrClosed) {
		t.Fatalf("Do after Close: %v, want ErrClosed", err)
	}
	if b, a := before.Load(), after.Load(); b != 0 || a != 0 {
		t.Errorf("Do on a closed client called BeforeCommand %d and AfterCommand %d times; before the split: 0 (ErrClosed came first)", b, a)
	}
}

// TestReadFromValues: engineConfig converts ReadFrom by value
// (cluster.ReadFrom(o.ReadFrom)); nothing checked that the two enums agree — insert a
// choice in one and reads silently go elsewhere.
func TestReadFromValues(t *testing.T) {
	t.Parallel()
	for _, p := range []struct {
		root ReadFrom
		eng  cluster.ReadFrom
	}{
		{ReadPrimary, cluster.ReadPrimary},
		{ReadPreferReplica, cluster.ReadPreferReplica},
		{ReadReplicaOnly, cluster.ReadReplicaOnly},
		{ReadNearest, cluster.ReadNearest},
	} {
		if got := (Options{ReadFrom: p.root}).engineConfig().ReadFrom; got != p.eng {
			t.Errorf("ReadFrom %v becomes the engine's %d, want %d", p.root, got, p.eng)
		}
	}
}
