package redline

import "testing"

// TestMoveOnCluster: MOVE is sent as written and the cluster's refusal comes back as an
// error (a cluster has one database), never a false "not moved".
func TestMoveOnCluster(t *testing.T) {
	t.Parallel()
	c := newTestClient(t, plain(t), Options{})
	ctx := t.Context()
	c.Do(ctx, "SET", "move:k", "v")
	if ok, err := c.Move(ctx, "move:k", 1); err == nil {
		t.Fatalf("MOVE on a cluster: %v, no error", ok)
	}
	if s, _ := c.Get(ctx, "move:k"); s != "v" {
		t.Fatalf("the key moved: %q", s)
	}
}
