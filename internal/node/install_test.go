package node

import (
	"context"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redline-go/redline/internal/conn"
	"github.com/redline-go/redline/internal/fakeserver"
)

// deathSignal is a slog handler that signals when a connection's death is logged.
type deathSignal struct{ died chan struct{} }

func (h deathSignal) Enabled(context.Context, slog.Level) bool { return true }
func (h deathSignal) Handle(_ context.Context, r slog.Record) error {
	if strings.Contains(r.Message, "connection closed") {
		select {
		case h.died <- struct{}{}:
		default:
		}
	}
	return nil
}
func (h deathSignal) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h deathSignal) WithGroup(string) slog.Handler      { return h }

// A connection that dies after Dial returned but before the node installed it (here:
// the server closes it while the OnDial hook runs) must never be installed or handed
// out: the node used to keep it for good, and every call failed with "read: EOF".
func TestDeadConnNotInstalled(t *testing.T) {
	s := fakeserver.New(nil)
	addr, err := s.Listen()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	died := make(chan struct{}, 1)
	var dials atomic.Int32
	n := New(addr, Options{
		BackoffBase: 10 * time.Millisecond, BackoffMax: 20 * time.Millisecond,
		Conn: conn.Options{Logger: slog.New(deathSignal{died})},
		OnDial: func(e DialEvent) {
			if e.Err != nil || dials.Add(1) != 1 {
				return
			}
			s.CloseConns() // the first connection dies before it is installed
			select {
			case <-died:
			case <-time.After(2 * time.Second):
				t.Error("the connection did not see its server close it")
			}
		},
	})
	defer n.Close()
	deadline := time.Now().Add(3 * time.Second)
	var last error
	for i := 0; time.Now().Before(deadline); i++ {
		_, err := n.Do(ctxT(t, time.Second), "PING")
		if err == nil {
			if i > 20 {
				t.Errorf("%d calls failed before one succeeded; last: %v", i, last)
			}
			return
		}
		last = err
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("no call succeeded in 3s: the dead connection was installed: %v", last)
}
