package systest

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redline-go/redline/internal/testkit"
)

// lateDebug (REDLINE_LATEDEBUG=1) makes the Sentinel failover load record, for every
// call still running 1ms past its deadline, what its goroutine was doing then (its
// stack) and how it ended: a debugging aid for the deadline + 2ms figure. It costs a
// stack header read per call, so it is off in the figures' runs.
var lateDebug = os.Getenv("REDLINE_LATEDEBUG") != ""

// lateProbe records the calls that outlive their deadline by more than 1ms.
type lateProbe struct {
	mu    sync.Mutex
	calls []lateRecord
	timer struct {
		n    atomic.Int64 // plain time.Timer fires measured beside the calls
		over atomic.Int64 // how many of them fired more than 1ms late
		max  atomic.Int64 // nanoseconds
	}
}

// lateRecord is one call that ended more than 1ms past its deadline.
type lateRecord struct {
	what  string
	over  time.Duration
	err   string
	stack string // the caller's goroutine 1ms past the deadline ("" if it had ended)
}

// goid returns the calling goroutine's id (from its stack header).
func goid() string {
	var b [64]byte
	s := b[:runtime.Stack(b[:], false)]
	s = bytes.TrimPrefix(s, []byte("goroutine "))
	if i := bytes.IndexByte(s, ' '); i > 0 {
		return string(s[:i])
	}
	return ""
}

// stackOf returns goroutine id's stack from a dump of all goroutines.
func stackOf(id string) string {
	buf := make([]byte, 1<<20)
	all := buf[:runtime.Stack(buf, true)]
	for _, g := range bytes.Split(all, []byte("\n\n")) {
		if bytes.HasPrefix(g, []byte("goroutine "+id+" ")) {
			return string(g)
		}
	}
	return ""
}

// timed is stats.Timed, recording the call when it ends more than 1ms late (p nil: not).
func (p *lateProbe) timed(stats *testkit.CallStats, what string, timeout time.Duration, fn func(ctx context.Context) error) error {
	if p == nil {
		return stats.Timed(timeout, fn)
	}
	id := goid()
	var done atomic.Bool
	var stack atomic.Value
	start := time.Now()
	watch := time.AfterFunc(timeout+time.Millisecond, func() {
		late := time.Since(start) - timeout
		p.timer.n.Add(1)
		if late > 2*time.Millisecond {
			p.timer.over.Add(1)
		}
		if int64(late) > p.timer.max.Load() {
			p.timer.max.Store(int64(late))
		}
		if !done.Load() {
			stack.Store(fmt.Sprintf("(snapshot %v past the deadline)\n%s", late.Round(10*time.Microsecond), stackOf(id)))
		}
	})
	err := stats.Timed(timeout, fn)
	done.Store(true)
	watch.Stop()
	if over := time.Since(start) - timeout; over > time.Millisecond {
		s, _ := stack.Load().(string)
		p.mu.Lock()
		p.calls = append(p.calls, lateRecord{what: what, over: over, err: fmt.Sprint(err), stack: s})
		p.mu.Unlock()
	}
	return err
}

// report logs what was recorded.
func (p *lateProbe) report(t *testing.T) {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	t.Logf("LATE: %d calls ended more than 1ms past their deadline; watchdog timers (deadline+1ms): %d fired, %d more than 1ms late, max %v",
		len(p.calls), p.timer.n.Load(), p.timer.over.Load(), time.Duration(p.timer.max.Load()))
	for i, c := range p.calls {
		if i >= 20 {
			break
		}
		t.Logf("LATE %s: %v past the deadline: %s\n%s", c.what, c.over, c.err, c.stack)
	}
}

// lateProfile (REDLINE_LATEPROF=file) writes a CPU profile of the test process from the
// primary's fault until writes resume, to see what the process runs when its timers
// are late. It returns the function that stops it.
func lateProfile(t *testing.T, round int) func() {
	path := os.Getenv("REDLINE_LATEPROF")
	if path == "" {
		return func() {}
	}
	f, err := os.Create(fmt.Sprintf("%s.%d", path, round))
	if err != nil {
		t.Fatal(err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		t.Logf("no CPU profile: %v", err)
		return func() {}
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			pprof.StopCPUProfile()
			f.Close()
		})
	}
}
