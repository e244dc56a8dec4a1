package conn

import (
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redline-go/redline/resp"
)

// Request states. A request moves queued → sent → done, or is abandoned by its caller
// (from queued: it will never be written; from sent: its reply will be discarded).
// A request whose replies were read while the stream is being verified (sync.go) is
// held between sent and done; abandoned then, its caller learns its reply was read.
// Whoever sees an abandoned request last (the writer for queued, the reader for sent
// or held) recycles it; for done, the caller does.
const (
	stateQueued uint32 = iota
	stateSent
	stateDone
	stateAbandoned
	stateHeld
)

// request is one unit of work on a connection: one or more commands written together
// (never interleaved with others) whose replies complete it.
type request struct {
	buf     []byte       // the encoded commands
	n       int          // replies expected
	got     int          // replies received
	reply   resp.Value   // the reply when n == 1
	replies []resp.Value // the replies when n > 1
	err     error        // set with stateDone when the connection died
	state   atomic.Uint32
	done    chan struct{} // capacity 2: the completion, and at most one wake-up (wake)
	sentAt  time.Time     // when the writer wrote it
	seq     uint64        // the writer's batch number, set before the request is marked sent
	extra   time.Duration // added to the reply timeout (blocking commands)
	health  bool          // an internal PING: nobody waits for it
	alone   bool          // written directly by its caller, alone on the connection (direct.go)
	token   string        // a sync marker's token (sync.go); "" for every other request
	// The caller waits on done alone (roundTrip): what else may end its wait — its
	// deadline or the connection's end — wakes it with a token on done, once:
	// whoever claims the wake-up first sends it (wakeUp, expire); the caller claims
	// it itself when it stops waiting, so that no token comes later. wake holds the
	// use's number and the claim (use<<1 | claimed): a claim is for one use of the
	// pooled request, never the next.
	//
	// The deadline's timer is the request's own and outlives its uses: a call does
	// not stop it, it only moves it earlier when it is armed later than the call's
	// deadline (or not at all). When it fires (expire) it wakes the use then waiting
	// if that use's deadline has passed, else re-arms itself for it: with the same
	// deadline for every call (CommandTimeout), a pooled request's timer fires once
	// per CommandTimeout instead of being reset and stopped on every call (7.8% of the
	// client's CPU profile at 512 goroutines, SET 1 KiB).
	wake  atomic.Uint64
	dl    atomic.Int64 // the waiting use's deadline, in ns since epoch; 0: none
	tmu   sync.Mutex   // serializes arming and expire
	armed int64        // under tmu: when the timer fires, in ns since epoch; 0: not armed
	timer *time.Timer
}

// epoch is the origin of the request timers' clock: ns since it (monotonic) are
// what a deadline and an armed timer are compared in.
var epoch = time.Now()

// sinceEpoch returns the monotonic time since epoch of t, a time.Now() reading.
func sinceEpoch(t time.Time) int64 { return int64(t.Sub(epoch)) }

// requests recycles requests. A sync.Pool, not a freeList: its per-P caches hand a
// request back on the core that freed it, its buffer still in that core's cache, where
// the free list's shards, picked at random, passed requests between cores (the list's
// locks and the cold buffers were 8% of the client's CPU for 1 KiB SETs at 512
// goroutines; with the pool, 6% less CPU per call: BenchmarkClient cpu-ns/op, three
// alternated pairs). A collection moves the pool's requests to its victim cache, from
// which they are still taken: allocations per GET stay 1.00 at 512 goroutines (bench
// report's whole-process count).
var requests sync.Pool

// maxPooledBuf is the largest command buffer kept when a request is recycled (a
// pooled request holds at most 4 KiB of buffer and 64 replies).
const maxPooledBuf = 4 << 10

func getRequest() *request {
	r, _ := requests.Get().(*request)
	if r == nil {
		r = &request{done: make(chan struct{}, 2)}
	}
	r.begin()
	return r
}

// begin starts a new use of r: queued, its wake-up unclaimed, no deadline yet.
func (r *request) begin() {
	r.state.Store(stateQueued)
	r.dl.Store(0) // before the new use shows: expire never reads an old use's deadline for it
	r.wake.Store((r.wake.Load()>>1 + 1) << 1)
}

// waitBy stores dl (ns since epoch) as the deadline of the use about to wait on r,
// and makes sure r's timer fires by then: it moves the timer only if it is unarmed or
// armed later. The timer is set from a clock reading taken here, not the caller's
// earlier one: armed must be when it fires, for a later use that leaves it alone (a
// caller that read the clock, then was held up before arming, made it fire that much
// late, for every use until its firing).
func (r *request) waitBy(dl int64) {
	r.dl.Store(dl)
	r.tmu.Lock()
	if r.armed == 0 || r.armed > dl {
		r.armed = dl
		d := time.Duration(dl - sinceEpoch(time.Now()))
		if r.timer == nil {
			r.timer = time.AfterFunc(d, r.expire)
		} else {
			r.timer.Reset(d)
		}
	}
	r.tmu.Unlock()
}

// timerDeadline returns dl in the timers' clock (ns since epoch). A deadline with a
// monotonic reading (time.Now().Add, context.WithTimeout) converts without reading
// the clock (Sub saturates); one without (a wall-clock time, or one whose monotonic
// reading overflowed) is taken as its distance from now, as Go's context takes it,
// saturated: a deadline centuries away must not wrap to the past (a wrapped deadline
// was armed as a negative time that no later deadline was earlier than: the pooled
// request's timer never fired again).
func timerDeadline(dl time.Time) int64 {
	if dl != dl.Round(0) { // Round(0) strips the monotonic reading, if any
		return int64(dl.Sub(epoch))
	}
	now := time.Now()
	at, left := sinceEpoch(now), dl.Sub(now)
	if sum := at + int64(left); left <= 0 || sum > at {
		return sum
	}
	return math.MaxInt64
}

func putRequest(r *request) {
	if cap(r.buf) > maxPooledBuf {
		r.buf = nil
	}
	r.buf = r.buf[:0]
	r.n, r.got, r.err, r.extra, r.health, r.alone, r.token = 0, 0, nil, 0, false, false, ""
	r.reply = resp.Value{}
	clear(r.replies)
	r.replies = r.replies[:0]
	if cap(r.replies) > 64 {
		r.replies = nil
	}
	requests.Put(r)
}

// complete marks r done (after its replies or with err) and wakes its caller; an
// abandoned or internal request is recycled instead. It reports whether a caller got r.
func (r *request) complete(err error) bool {
	r.err = err
	if !r.health && r.state.CompareAndSwap(stateSent, stateDone) {
		r.done <- struct{}{}
		return true
	}
	if !r.health && r.state.CompareAndSwap(stateHeld, stateDone) {
		r.done <- struct{}{}
		return true
	}
	if !r.health && r.state.CompareAndSwap(stateQueued, stateDone) {
		r.done <- struct{}{}
		return true
	}
	putRequest(r)
	return false
}

// wakeUp ends the wait of r's caller, unless it was already ended or its caller has
// stopped waiting: the connection's end calls it. It never blocks (done has room for
// the completion and one wake-up).
func (r *request) wakeUp() {
	if !r.health && r.claim() {
		r.done <- struct{}{}
	}
}

// claim takes r's wake-up for its current use; false if it was already taken.
func (r *request) claim() bool {
	u := r.wake.Load()
	return u&1 == 0 && r.wake.CompareAndSwap(u, u|1)
}

// unwake claims r's wake-up for a caller that got its reply without waiting on done
// (a lone caller that read it itself): none comes later, and one already sent is
// taken, so that r goes back to the pool empty.
func (r *request) unwake() {
	if !r.claim() {
		<-r.done // claimed by another: its token is there or about to be
	}
}

// expire is r's timer firing: it wakes the use waiting on r if its deadline has
// passed, re-arms the timer for a deadline still ahead, and leaves it unarmed when
// no use waits with a deadline.
func (r *request) expire() {
	r.tmu.Lock()
	defer r.tmu.Unlock()
	now := sinceEpoch(time.Now())
	if r.armed > now {
		return // re-armed for later while this firing waited for the lock
	}
	r.armed = 0
	for {
		u, dl := r.wake.Load(), r.dl.Load()
		if u&1 != 0 || dl == 0 {
			return // nobody waits on r with a deadline
		}
		if now < dl {
			r.armed = dl
			r.timer.Reset(time.Duration(dl - now))
			return
		}
		if r.wake.CompareAndSwap(u, u|1) { // else: claimed, or a new use began: look again
			r.done <- struct{}{}
			return
		}
	}
}

// deliver records one reply; it reports whether r now has all of them.
func (r *request) deliver(v resp.Value) bool {
	if r.n == 1 {
		r.reply = v
	} else {
		r.replies = append(r.replies, v)
	}
	r.got++
	return r.got >= r.n
}
