package conn

import (
	"testing"
	"time"
)

// TestRTTFloor: the floor is the lowest sample of the current and previous windows:
// slow replies (server execution time) do not raise it, and a sample is forgotten
// after one to two windows.
func TestRTTFloor(t *testing.T) {
	t0 := time.Unix(1000, 0)
	f := rttFloor{cur: 200 * time.Microsecond, since: t0} // seeded by the handshake
	ms := time.Millisecond
	for i, step := range []struct {
		at   time.Duration // since t0
		s    time.Duration
		want time.Duration
	}{
		{1 * time.Second, 1000 * ms, 200 * time.Microsecond}, // three 1s commands
		{2 * time.Second, 1000 * ms, 200 * time.Microsecond},
		{3 * time.Second, 1000 * ms, 200 * time.Microsecond},
		{4 * time.Second, 100 * time.Microsecond, 100 * time.Microsecond},
		{11 * time.Second, 5 * ms, 100 * time.Microsecond}, // new window: the previous one's minimum still counts
		{12 * time.Second, 3 * ms, 100 * time.Microsecond},
		{22 * time.Second, 4 * ms, 3 * ms}, // two windows on: the old minimum is forgotten
		{23 * time.Second, 2 * ms, 2 * ms},
	} {
		if got := f.add(t0.Add(step.at), step.s); got != step.want {
			t.Fatalf("step %d: sample %v at %v: floor %v, want %v", i, step.s, step.at, got, step.want)
		}
	}
}
