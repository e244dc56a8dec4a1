package testkit

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// The canary is a goroutine that sleeps 1ms at a time and records how much later than
// that it woke: the process-wide scheduling stalls (CPU taken by other processes on a
// shared 2-core machine, the race detector, GC) that delay every goroutine alike. A call
// that returns late during such a stall shows the machine, not the client: tests fail
// a call only when it is later than the slack plus the stall seen around it.
var canary struct {
	once   sync.Once
	mu     sync.Mutex
	stalls []stall // the recent ones over 2ms, oldest first
	max    atomic.Int64
}

type stall struct {
	at time.Time // when the canary woke
	d  time.Duration
}

// StartCanary starts the canary once per test binary (it runs until the binary exits).
func StartCanary() {
	canary.once.Do(func() {
		go func() {
			for {
				t0 := time.Now()
				time.Sleep(time.Millisecond)
				now := time.Now()
				d := now.Sub(t0) - time.Millisecond
				if d <= 2*time.Millisecond {
					continue
				}
				canary.mu.Lock()
				if len(canary.stalls) >= 1<<16 {
					canary.stalls = append(canary.stalls[:0], canary.stalls[1<<15:]...)
				}
				canary.stalls = append(canary.stalls, stall{now, d})
				canary.mu.Unlock()
				if int64(d) > canary.max.Load() {
					canary.max.Store(int64(d))
				}
			}
		}()
	})
}

// StallDuring returns the longest stall the canary saw end in [from, to].
func StallDuring(from, to time.Time) time.Duration {
	canary.mu.Lock()
	defer canary.mu.Unlock()
	var m time.Duration
	for _, s := range canary.stalls {
		if !s.at.Before(from) && !s.at.After(to) && s.d > m {
			m = s.d
		}
	}
	return m
}

// CallStats counts the calls of a load phase and how far past its deadline each
// returned.
type CallStats struct {
	calls, failed atomic.Int64
	over2ms       atomic.Int64 // returned more than 2ms after the deadline (the contract)
	maxOver       atomic.Int64 // nanoseconds
	mu            sync.Mutex
	late          []lateCall // returned more than DeadlineSlack after the deadline
}

// lateCall is a call that returned more than DeadlineSlack after its deadline.
type lateCall struct {
	end  time.Time
	over time.Duration
	err  string
}

// Timed runs fn with a context that ends after timeout and records how the call ended.
func (s *CallStats) Timed(timeout time.Duration, fn func(ctx context.Context) error) error {
	StartCanary()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	start := time.Now()
	err := fn(ctx)
	end := time.Now()
	over := end.Sub(start) - timeout
	s.calls.Add(1)
	if err != nil {
		s.failed.Add(1)
	}
	if over > 2*time.Millisecond {
		s.over2ms.Add(1)
	}
	if over > DeadlineSlack {
		s.mu.Lock()
		s.late = append(s.late, lateCall{end, over, fmt.Sprint(err)})
		s.mu.Unlock()
	}
	for {
		m := s.maxOver.Load()
		if int64(over) <= m || s.maxOver.CompareAndSwap(m, int64(over)) {
			break
		}
	}
	return err
}

// Check fails the test if a call went past its deadline by more than the slack plus
// the longest process-wide stall the canary saw while that call was ending.
func (s *CallStats) Check(t testing.TB) {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	var bad int
	var first string
	for _, l := range s.late {
		st := StallDuring(l.end.Add(-l.over-50*time.Millisecond), l.end.Add(50*time.Millisecond))
		if l.over > DeadlineSlack+st {
			bad++
			if first == "" {
				first = fmt.Sprintf("%v past the deadline (process stall around it: %v): %s", l.over, st, l.err)
			}
		}
	}
	if bad > 0 {
		t.Errorf("%d calls returned more than %v after their deadline, beyond any scheduling stall of the process; first: %s", bad, DeadlineSlack, first)
	}
}

// String summarizes the calls for a FIGURE line.
func (s *CallStats) String() string {
	s.mu.Lock()
	late := len(s.late)
	s.mu.Unlock()
	return fmt.Sprintf("%d calls, %d failed, %d past deadline+2ms (%d past deadline+%v), max past deadline %v, longest process stall seen by the canary %v",
		s.calls.Load(), s.failed.Load(), s.over2ms.Load(), late, DeadlineSlack, max(0, time.Duration(s.maxOver.Load())).Round(10*time.Microsecond),
		time.Duration(canary.max.Load()).Round(100*time.Microsecond))
}
