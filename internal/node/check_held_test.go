package node

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/redline-go/redline/internal/conn"
	"github.com/redline-go/redline/internal/fakeserver"
)

// A health check whose PING reply is read but held (the shared connection verifies
// its stream after a request another caller gave up, and the sync marker sits behind a
// slow command) still reports the node as answering: before, the check failed, and a
// blocking command watched by it was abandoned as if its node had stopped.
func TestCheckCountsHeldReplyAsAnswer(t *testing.T) {
	s := fakeserver.New(func(c *fakeserver.Conn, args []string) bool {
		if args[0] != "SLOW" {
			return false
		}
		ms, _ := strconv.Atoi(args[1])
		time.Sleep(time.Duration(ms) * time.Millisecond)
		c.Reply(fakeserver.Bulk(args[2]))
		return true
	})
	addr, err := s.Listen()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	n := New(addr, Options{})
	defer n.Close()
	if _, err := n.Do(ctxT(t, time.Second), "PING"); err != nil {
		t.Fatal(err)
	}
	aCtx, aCancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer aCancel()
	go n.Do(aCtx, "SLOW", "50", "a") // given up at 20ms, answered at 50ms
	time.Sleep(5 * time.Millisecond)
	checked := make(chan error, 1)
	go func() {
		w := conn.NewWaiter(context.Background(), time.Now().Add(300*time.Millisecond))
		defer w.Release()
		checked <- n.Check(&w, 0) // its PING is answered at ~50ms, then held
	}()
	time.Sleep(5 * time.Millisecond)
	cDone := make(chan error, 1)
	go func() { _, err := n.Do(ctxT(t, 5*time.Second), "SLOW", "600", "c"); cDone <- err }()
	if err := <-checked; err != nil {
		t.Fatalf("Check of a node that answered its PING at ~50ms: %v", err)
	}
	if err := <-cDone; err != nil {
		t.Fatal(err)
	}
}
