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
	s, err := redistest.StartStandalone(ctx, redistest.StandaloneConfig{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	const timeout = 300 * time.Millisecond
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
			// Each call is timed alone: within its deadline, +100ms for a loaded machine
			// (timers of a test process were seen to oversleep by 90ms under this
			// machine's load).
			timed := func(i int, what string, call func() error) error {
				start := time.Now()
				err := call()
				el := time.Since(start)
				if err == nil {
					t.Fatalf("call %d (%s) succeeded through %v", i, what, mode)
				}
				if el > timeout+100*time.Millisecond {
					t.Errorf("call %d (%s) took %v: %v", i, what, el, err)
				}
				if el < 20*time.Millisecond {
					fast++
				}
				return err
			}
			for i := range 8 {
				err := timed(i, "GET", func() error { _, err := c.Get(ctx, "f:k"); return err })
				var ne *NodeError
				if !errors.As(err, &ne) || ne.Addr != s.Addr() {
					t.Fatalf("call %d: error %v does not name the server", i, err)
				}
				if i%2 == 1 { // a pipeline and a transaction too
					timed(i, "DoMulti", func() error {
						rs := c.DoMulti(ctx, Cmd("GET", "f:k"), Cmd("SET", "f:k", "w"))
						return errors.Join(rs[0].Err(), rs[1].Err())
					})
					timed(i, "TxPipelined", func() error {
						_, err := c.TxPipelined(ctx, func(p *TxPipe) error { p.Do("INCR", "f:n"); return nil })
						return err
					})
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
