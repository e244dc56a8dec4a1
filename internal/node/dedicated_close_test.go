package node

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/redline-go/redline/internal/fakeserver"
)

// A caller that leaves Dedicated while its dial is in progress, as the node closes:
// the abandoned attempt's cleanup must be counted by the WaitGroup Close waits on
// before Close can be waiting (before, a second goroutine was added from the caller's
// branch, outside the lock: under -race, "WaitGroup is reused before previous Wait has
// returned" or a race between Add and Wait; a cleanup running after Close returned).
func TestDedicatedAbandonRacesClose(t *testing.T) {
	s := fakeserver.New(func(c *fakeserver.Conn, args []string) bool {
		if args[0] == "HELLO" {
			time.Sleep(2 * time.Millisecond) // the dial ends around the caller's deadline
		}
		return false
	})
	addr, err := s.Listen()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for i := range 200 {
		n := New(addr, Options{})
		ctx, cancel := context.WithTimeout(context.Background(), time.Duration(1+i%4)*time.Millisecond)
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			if c, err := n.Dedicated(ctx); err == nil {
				n.Release(c, false)
			}
		}()
		time.Sleep(time.Duration(i%5) * 500 * time.Microsecond) // vary the interleaving
		n.Close()
		wg.Wait()
		cancel()
	}
}
