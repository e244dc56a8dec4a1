package testkit

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

func TestSoakOr(t *testing.T) {
	if got := SoakOr(1, 2); (got == 2) != Soak {
		t.Fatalf("SoakOr(1, 2) = %d with Soak %v", got, Soak)
	}
}

// recTB records a test's errors.
type recTB struct {
	testing.TB
	errs []string
}

func (r *recTB) Helper()                           {}
func (r *recTB) Errorf(format string, args ...any) { r.errs = append(r.errs, format) }

func TestCallStats(t *testing.T) {
	var s CallStats
	if err := s.Timed(20*time.Millisecond, func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() }); err == nil {
		t.Fatal("Timed lost the call's error")
	}
	var r recTB
	if s.Check(&r); len(r.errs) != 0 {
		t.Fatalf("a call that returned at its deadline was reported late: %v", r.errs)
	}
	s.Timed(time.Millisecond, func(context.Context) error { time.Sleep(DeadlineSlack + 300*time.Millisecond); return nil })
	if s.Check(&r); len(r.errs) != 1 {
		t.Fatalf("a call %v past its deadline was not reported", DeadlineSlack+300*time.Millisecond)
	}
	if str := s.String(); !strings.HasPrefix(str, "2 calls, 1 failed, 1 past deadline+2ms") {
		t.Fatalf("String() = %q", str)
	}
}

// TestHeavyLockAcrossProcesses: a second process asking for the heavy lock waits until
// this one lets it go.
func TestHeavyLockAcrossProcesses(t *testing.T) {
	if os.Getenv("TESTKIT_CHILD") != "" {
		unlock := lockHeavy()
		unlock()
		return
	}
	unlock := lockHeavy()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHeavyLockAcrossProcesses$")
	cmd.Env = append(os.Environ(), "TESTKIT_CHILD=1")
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		unlock()
		t.Fatalf("the child took the lock while this process held it: %v\n%s", err, out.String())
	case <-time.After(300 * time.Millisecond):
	}
	unlock()
	select {
	case err := <-done:
		var ee *exec.ExitError
		if errors.As(err, &ee) || err != nil {
			t.Fatalf("child: %v\n%s", err, out.String())
		}
	case <-time.After(10 * time.Second):
		cmd.Process.Kill()
		t.Fatal("the child did not get the lock within 10s of its release")
	}
}

// With AgainstTimer, a call that returns when its context ends is not counted late
// beyond the plain timer; one that lingers after it is. The first call's return and
// the plain timer are two wake-ups of the scheduler: on a loaded machine they can be
// more than 2ms apart, so the check gets three tries.
func TestCallStatsAgainstTimer(t *testing.T) {
	var last string
	for range 3 {
		s := CallStats{AgainstTimer: true}
		s.Timed(10*time.Millisecond, func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() })
		s.Timed(10*time.Millisecond, func(ctx context.Context) error { <-ctx.Done(); time.Sleep(40 * time.Millisecond); return nil })
		n, m := s.own2ms.Load(), time.Duration(s.maxOwn.Load())
		if n == 1 && m >= 30*time.Millisecond {
			if str := s.String(); !strings.Contains(str, "(1 past deadline+2ms and a plain timer set for it") {
				t.Fatalf("String() = %q", str)
			}
			return
		}
		last = fmt.Sprintf("%d calls counted past deadline+2ms and the plain timer, want 1; max past the plain timer %v, want about 40ms (%s)", n, m, s.String())
		t.Log(last)
	}
	t.Fatal(last)
}
