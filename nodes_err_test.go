package redline

import (
	"errors"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/redline-go/redline/redistest"
)

// TestNodeResultsErrAnswersForAll: NodeResults.Err answers SafeToRetry and
// MayHaveExecuted for every node, not for the first failed node in address order (which
// is all errors.As sees of a plain errors.Join): a node refused before a node whose reply
// was lost, or before a node that succeeded, is not "safe to retry".
func TestNodeResultsErrAnswersForAll(t *testing.T) {
	refused := Result{err: &NodeError{Addr: "a:1", Phase: PhaseDial, Err: syscall.ECONNREFUSED}}
	lost := Result{err: &NodeError{Addr: "b:1", Phase: PhaseRead, Err: errors.New("reset"), Written: true}}
	ok := Result{}
	for _, tc := range []struct {
		name      string
		rs        NodeResults
		safe, may bool
	}{
		{"all refused", NodeResults{"a:1": refused, "c:1": refused}, true, false},
		{"refused then lost", NodeResults{"a:1": refused, "b:1": lost}, false, true},
		{"refused then succeeded", NodeResults{"a:1": refused, "z:1": ok}, false, true},
		{"lost only", NodeResults{"b:1": lost, "z:1": ok}, false, true},
	} {
		err := tc.rs.Err()
		if err == nil {
			t.Fatalf("%s: no error", tc.name)
		}
		if SafeToRetry(err) != tc.safe || MayHaveExecuted(err) != tc.may {
			t.Errorf("%s: SafeToRetry %v, MayHaveExecuted %v; want %v, %v (%v)", tc.name, SafeToRetry(err), MayHaveExecuted(err), tc.safe, tc.may, err)
		}
		var ne *NodeError
		if !errors.As(err, &ne) || !errors.Is(err, ne.Err) {
			t.Errorf("%s: errors.As/Is do not reach the nodes' errors: %v", tc.name, err)
		}
	}
	if err := (NodeResults{"z:1": ok}).Err(); err != nil {
		t.Errorf("all succeeded: %v", err)
	}
}

// TestNodeResultsErrLostWrite: DoOnEveryPrimary FLUSHALL with one primary refusing
// connections (first by address) and one whose reply is lost after the write: the
// joined error is not SafeToRetry and MayHaveExecuted (the refused node's error used to
// answer for all).
func TestNodeResultsErrLostWrite(t *testing.T) {
	t.Parallel()
	cl := redistest.Run(t, redistest.Config{Masters: 3})
	const timeout = 300 * time.Millisecond
	probe := newTestClient(t, cl, Options{CommandTimeout: timeout})
	ctx := t.Context()
	prims := slices.Sorted(slices.Values(probe.PrimaryAddrs()))
	refused, hung := prims[0], prims[1]
	check(t, cl.NodeByAddr(refused).SetFault(redistest.Refuse))
	defer cl.NodeByAddr(refused).SetFault(redistest.Pass)
	var seeds []string
	for _, a := range cl.Addrs() {
		if a != refused {
			seeds = append(seeds, a)
		}
	}
	c := newTestClient(t, cl, Options{Addrs: seeds, CommandTimeout: timeout})
	check(t, c.DoOn(ctx, hung, "PING").Err()) // connected: the FLUSHALL will be written
	check(t, cl.NodeByAddr(hung).SetFault(redistest.Hang))
	defer cl.NodeByAddr(hung).SetFault(redistest.Pass)
	rs := c.DoOnEveryPrimary(ctx, "FLUSHALL")
	err := rs.Err()
	if !SafeToRetry(rs[refused].Err()) || !MayHaveExecuted(rs[hung].Err()) || rs[prims[2]].Err() != nil {
		t.Fatalf("the nodes' own errors: refused %v; hung %v; healthy %v", rs[refused].Err(), rs[hung].Err(), rs[prims[2]].Err())
	}
	if SafeToRetry(err) || !MayHaveExecuted(err) {
		t.Errorf("NodeResults.Err with a lost write on %s and a success on %s: SafeToRetry = %v, MayHaveExecuted = %v (%v)", hung, prims[2], SafeToRetry(err), MayHaveExecuted(err), err)
	}
}
