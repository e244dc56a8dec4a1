package main

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Load is how busy the machine was during (part of) the run: the figures are only
// as good as the machine was quiet.
type Load struct {
	Section string `json:"section,omitempty"`
	Samples int    `json:"samples"`
	// Samples in which redis-server processes not started by this program ran (other
	// test runs on the same machine), and the most seen at once.
	ForeignRedisSamples int `json:"foreign_redis_samples"`
	ForeignRedisMax     int `json:"foreign_redis_max"`
	// Busy CPU time of the whole machine (/proc/stat), and of this program with its
	// own children (getrusage), in CPU-seconds.
	MachineBusyS float64 `json:"machine_busy_cpu_s"`
	OursBusyS    float64 `json:"ours_busy_cpu_s"`
	WallS        float64 `json:"wall_s"`
}

// OtherS is the CPU time other programs used.
func (l Load) OtherS() float64 { return max(l.MachineBusyS-l.OursBusyS, 0) }

// Contention is the whole run's load and each section's.
type Contention struct {
	Load
	Sections []Load `json:"sections"`
}

type contentionMonitor struct {
	mu     sync.Mutex
	c      Contention
	start  time.Time
	busy0  float64
	ours0  float64
	cur    *Load // the section under way
	curB   float64
	curO   float64
	curT   time.Time
	last   time.Time
	cancel context.CancelFunc
	done   chan struct{}
}

func oursNow() float64 {
	return rusageSeconds(syscall.RUSAGE_SELF) + rusageSeconds(syscall.RUSAGE_CHILDREN)
}

// enter ends the section under way (its clusters are closed and reaped by now, so
// their CPU time is counted) and starts the next.
func (m *contentionMonitor) enter(name string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.closeSectionLocked()
	if name != "" {
		m.cur = &Load{Section: name}
		m.curB, m.curO, m.curT = machineBusy(), oursNow(), time.Now()
	}
}

func (m *contentionMonitor) closeSectionLocked() {
	if m.cur == nil {
		return
	}
	m.cur.MachineBusyS = machineBusy() - m.curB
	m.cur.OursBusyS = oursNow() - m.curO
	m.cur.WallS = time.Since(m.curT).Seconds()
	m.c.Sections = append(m.c.Sections, *m.cur)
	m.cur = nil
}

var clkTck = 100.0 // USER_HZ on Linux

func startContentionMonitor() *contentionMonitor {
	ctx, cancel := context.WithCancel(context.Background())
	m := &contentionMonitor{start: time.Now(), busy0: machineBusy(), ours0: oursNow(), cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(m.done)
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			// Sampling allocates (it reads /proc): never while a throughput cell
			// counts the process's allocations; runLoad samples between cells.
			sampleMu.Lock()
			if !measuring.Load() {
				m.sample()
			}
			sampleMu.Unlock()
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
	return m
}

func (m *contentionMonitor) stop() Contention {
	m.cancel()
	<-m.done
	m.sample()
	m.mu.Lock()
	defer m.mu.Unlock()
	m.closeSectionLocked()
	m.c.MachineBusyS = machineBusy() - m.busy0
	m.c.WallS = time.Since(m.start).Seconds()
	// This process and its reaped children (the redis-servers, go test and its
	// compilers, redis-benchmark: all have ended by now), their descendants included.
	m.c.OursBusyS = oursNow() - m.ours0
	return m.c
}

type procInfo struct {
	pid, ppid int
	comm      string
}

// measuring is set while a throughput cell counts allocations; sampleMu orders it
// with the monitor's samples (a sample under way ends before a cell starts counting).
var (
	measuring atomic.Bool
	sampleMu  sync.Mutex
)

// startMeasuring waits for a sample under way and keeps new ones off until
// stopMeasuring.
func startMeasuring() {
	sampleMu.Lock()
	measuring.Store(true)
	sampleMu.Unlock()
}

func stopMeasuring() { measuring.Store(false) }

// between, when set, is called by runLoad after each measured cell.
var between func()

// sampleIfDue samples when the last sample is a second old or more.
func (m *contentionMonitor) sampleIfDue() {
	m.mu.Lock()
	due := time.Since(m.last) >= time.Second
	m.mu.Unlock()
	if due {
		m.sample()
	}
}

func (m *contentionMonitor) sample() {
	procs := map[int]procInfo{}
	dirs, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, d := range dirs {
		b, err := os.ReadFile(d)
		if err != nil {
			continue
		}
		s := string(b)
		l, r := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
		if l < 0 || r < l {
			continue
		}
		f := strings.Fields(s[r+1:])
		if len(f) < 2 {
			continue
		}
		pid, _ := strconv.Atoi(strings.TrimSpace(s[:l]))
		ppid, _ := strconv.Atoi(f[1])
		procs[pid] = procInfo{pid, ppid, s[l+1 : r]}
	}
	self := os.Getpid()
	isOurs := func(pid int) bool {
		for i := 0; i < 20 && pid > 1; i++ {
			if pid == self {
				return true
			}
			pid = procs[pid].ppid
		}
		return false
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.last = time.Now()
	m.c.Samples++
	foreign := 0
	for _, p := range procs {
		if p.comm == "redis-server" && !isOurs(p.pid) {
			foreign++
		}
	}
	for _, l := range []*Load{&m.c.Load, m.cur} {
		if l == nil {
			continue
		}
		if l != &m.c.Load {
			l.Samples++
		}
		if foreign > 0 {
			l.ForeignRedisSamples++
			l.ForeignRedisMax = max(l.ForeignRedisMax, foreign)
		}
	}
}

// machineBusy returns the machine's non-idle CPU time so far, in seconds.
func machineBusy() float64 {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	var total, idle float64
	for i, v := range f[1:] {
		x, _ := strconv.ParseFloat(v, 64)
		if i >= 8 { // guest time is already counted in user
			break
		}
		total += x
		if i == 3 || i == 4 { // idle, iowait
			idle += x
		}
	}
	return (total - idle) / clkTck
}

func rusageSeconds(who int) float64 {
	var ru syscall.Rusage
	if syscall.Getrusage(who, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}
