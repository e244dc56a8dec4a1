package conn

import (
	"testing"
	"time"
)

// A pool hands out an idle connection only if Usable: a server's close while the
// reader goroutine had left the socket to lone callers (nobody reading) is found by
// the look Usable takes, not by the next caller's first command (a Watch on a pooled
// connection failed with "read: EOF" after CLIENT KILL: TestReviewStdStandaloneDBEverywhere).
func TestUsableFindsCloseWhileParked(t *testing.T) {
	s, c := serve(t, nil, Options{})
	warmSolo(t, c)
	if !c.Usable() {
		t.Fatal("a parked, healthy connection is not Usable")
	}
	if _, err := c.Do(ctxWithTimeout(t, 2*time.Second), "PING"); err != nil {
		t.Fatalf("a call after Usable: %v", err)
	}
	awaitParked(t, c)
	s.CloseConns()
	for end := time.Now().Add(2 * time.Second); s.Open() != 0 && time.Now().Before(end); {
		time.Sleep(100 * time.Microsecond)
	}
	if c.Usable() {
		t.Fatal("Usable after the server closed the parked connection")
	}
	select {
	case <-c.Done():
	case <-time.After(2 * time.Second):
		t.Fatal("the connection Usable found closed was not torn down")
	}
}
