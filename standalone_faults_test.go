package redline

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/redline-go/redline/redistest"
)

// Faults on a standalone server keep the deadline contract: with the server refusing,
// blackholed or hanging, every call returns by its deadline (with a generous margin for
// a loaded machine), and once the server is known down, calls fail fast with the cause.
// Nothing polls a topology meanwhile.
func TestStandaloneFaultsDeadline(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	s, err := redistest.StartStandalone(ctx, redistest.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	const timeout = 300 * time.Millisecond
	const margin = 50 * time.Millisecond
	for _, mode := range []redistest.Mode{redistest.Refuse, redistest.Blackhole, redistest.Hang} {
		t.Run(mode.String(), func(t *testing.T) {
			c, err := NewClient(ctx, Options{Addrs: []string{s.Addr()}, CommandTimeout: timeout, DialTimeout: timeout})
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if err := c.Set(ctx, "f:k", "v", nil); err != nil {
				t.Fatal(err)
			}
			if err := s.Primary().SetFault(mode); err != nil {
				t.Fatal(err)
			}
			defer s.Primary().SetFault(redistest.Pass)
			var fast int
			for i := range 8 {
				start := time.Now()
				var errs [4]error
				_, errs[0] = c.Get(ctx, "f:k")
				if i%2 == 1 { // a pipeline and a transaction too
					rs := c.DoMulti(ctx, Cmd("GET", "f:k"), Cmd("SET", "f:k", "w"))
					errs[1] = rs[0].Err()
					_, errs[2] = c.TxPipelined(ctx, func(p *TxPipe) error { p.Do("INCR", "f:n"); return nil })
				}
				el := time.Since(start)
				if errs[0] == nil {
					t.Fatalf("call %d succeeded through %v", i, mode)
				}
				limit := timeout + margin
				if i%2 == 1 {
					limit = 3*timeout + margin // three calls, each bounded
				}
				if el > limit {
					t.Fatalf("call %d took %v (limit %v): %v", i, el, limit, errs[0])
				}
				var ne *NodeError
				if !errors.As(errs[0], &ne) || ne.Addr != s.Addr() {
					t.Fatalf("call %d: error %v does not name the server", i, errs[0])
				}
				if el < 20*time.Millisecond {
					fast++
				}
			}
			if mode == redistest.Refuse && fast == 0 {
				t.Errorf("with the server refusing, no call failed fast")
			}
			if st := c.Stats(); st.Refreshes != 0 {
				t.Errorf("%d topology refreshes on a standalone server", st.Refreshes)
			}
			s.Primary().SetFault(redistest.Pass)
			redistest.Eventually(t, 5*time.Second, func() bool { return c.Set(ctx, "f:k", "v", nil) == nil },
				"calls to succeed again after %v ends", mode)
		})
	}
}
