package redline

import (
	"errors"
	"testing"
	"time"

	"github.com/redline-go/redline/redistest"
)

// A DoMulti command failing at the call's deadline after a barrier says how long the
// call ran, not how long its own step did: on a hung node, SET (CommandTimeout), then a
// BLPOP barrier (its connection attempt, CommandTimeout more), then GET read "deadline
// exceeded after 0s … not sent: the call had already ended" ~600ms into the call.
func TestDoMultiDeadlineErrorCountsFromCallStart(t *testing.T) {
	cl := plain(t)
	const ct = 300 * time.Millisecond
	c := newTestClient(t, cl, Options{CommandTimeout: ct})
	k := "el:{k}"
	ctx := t.Context()
	c.Do(ctx, "SET", k, 1)
	if err := keyOwner(t, cl, c, k).SetFault(redistest.Hang); err != nil {
		t.Fatal(err)
	}
	t0 := time.Now()
	rs := c.DoMulti(ctx, Cmd("SET", k, 3), Cmd("BLPOP", "el:{k}q", 0), Cmd("GET", k))
	took := time.Since(t0)
	var de *DeadlineError
	if err := rs[2].Err(); !errors.As(err, &de) {
		t.Fatalf("GET after the barrier: %v, want a deadline error", err)
	}
	if de.Elapsed < took/2 {
		t.Fatalf("GET after the barrier: %v (%v into a %v call); want the call's elapsed time", de, de.Elapsed, took)
	}
	t.Logf("%v (call took %v)", de, took.Round(time.Millisecond))
}
