package cluster

import (
	"testing"
	"time"

	"github.com/redline-go/redline/resp"
)

// TestBlockingRoute: a blocking command never goes on the shared connection: it runs on
// a dedicated one of the slot's owner, of a MOVED's target, or of an ASK's target with
// ASKING first on that same connection.
func TestBlockingRoute(t *testing.T) {
	popped := arrV(bulkV(k1), bulkV("x"))
	cases := []struct {
		name  string
		setup func(fc *fakeCluster)
		sent  []string
		trace [3]int
	}{
		{"the owner's dedicated connection", func(fc *fakeCluster) { fc.handle(p1, always(popped)) },
			[]string{p1 + " (dedicated): BLPOP " + k1 + " 1"}, [3]int{1, 0, 0}},
		{"MOVED: the new owner's", func(fc *fakeCluster) {
			fc.handle(p1, always(movedV(s1, p2)))
			fc.handle(p2, always(popped))
		}, []string{p1 + " (dedicated): BLPOP " + k1 + " 1", p2 + " (dedicated): BLPOP " + k1 + " 1"}, [3]int{2, 1, 0}},
		{"ASK: ASKING first on the importing node's", func(fc *fakeCluster) {
			fc.handle(p1, always(askV(s1, p3)))
			fc.handle(p3, func(_ *Waiter, _ []string, asking bool) (resp.Value, error) {
				if !asking {
					return movedV(s1, p1), nil
				}
				return popped, nil
			})
		}, []string{p1 + " (dedicated): BLPOP " + k1 + " 1", p3 + " (dedicated): ASKING | BLPOP " + k1 + " 1"}, [3]int{2, 1, 1}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			fc := newFakeCluster(t)
			c := newEngine(t, testConfig(fc), threeShards)
			tc.setup(fc)
			r, tr := do(t, c, ctxFor(t, time.Second), "BLPOP", k1, "1")
			if r.Err() != nil || len(r.Value().Elems) != 2 {
				t.Fatalf("reply %+v, err %v", r.Value(), r.Err())
			}
			fc.wantSent(tc.sent...)
			if got := [3]int{tr.Attempts, tr.Redirects, tr.Asks}; got != tc.trace {
				t.Fatalf("trace %v; want %v", got, tc.trace)
			}
		})
	}
}
