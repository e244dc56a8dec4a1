package conn

import (
	"sync"
	"sync/atomic"
)

// inflight is the FIFO of written requests waiting for replies: the writer pushes in
// write order, the reader completes from the front. A ring buffer under a mutex, so
// the reader can look at the oldest request (for the health deadline) without taking it.
type inflight struct {
	mu   sync.Mutex
	buf  []*request
	head int
	n    int
	size atomic.Int64 // n, for a look without the lock (busy)
	dead bool         // the connection ended: wakeAll ran, and push wakes what it is given
}

// push appends reqs in order and reports whether the queue was empty before.
func (q *inflight) push(reqs []*request) (wasEmpty bool) {
	q.mu.Lock()
	if q.dead { // nobody will read their replies: their callers are told at once
		q.mu.Unlock()
		for _, r := range reqs {
			r.wakeUp()
		}
		return false
	}
	wasEmpty = q.n == 0
	if q.n+len(reqs) > len(q.buf) {
		q.grow(q.n + len(reqs))
	}
	for _, r := range reqs {
		q.buf[(q.head+q.n)%len(q.buf)] = r
		q.n++
	}
	q.size.Store(int64(q.n))
	q.mu.Unlock()
	return wasEmpty
}

// push1 appends one request (the direct path's push, without a slice).
func (q *inflight) push1(r *request) {
	q.mu.Lock()
	if q.dead {
		q.mu.Unlock()
		r.wakeUp()
		return
	}
	if q.n+1 > len(q.buf) {
		q.grow(q.n + 1)
	}
	q.buf[(q.head+q.n)%len(q.buf)] = r
	q.n++
	q.size.Store(int64(q.n))
	q.mu.Unlock()
}

func (q *inflight) grow(need int) {
	size := max(16, 2*len(q.buf))
	for size < need {
		size *= 2
	}
	nb := make([]*request, size)
	for i := range q.n {
		nb[i] = q.buf[(q.head+i)%len(q.buf)]
	}
	q.buf, q.head = nb, 0
}

// front returns the oldest request, or nil.
func (q *inflight) front() *request {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.n == 0 {
		return nil
	}
	return q.buf[q.head]
}

// pop removes the oldest request.
func (q *inflight) pop() { q.popFront() }

// popFront removes the oldest request and returns the one now oldest, or nil: the
// reader's pop and its next look at the front under one lock (a lock per reply
// instead of two).
func (q *inflight) popFront() *request {
	q.mu.Lock()
	q.buf[q.head] = nil
	q.head = (q.head + 1) % len(q.buf)
	q.n--
	q.size.Store(int64(q.n))
	var next *request
	if q.n > 0 {
		next = q.buf[q.head]
	}
	q.mu.Unlock()
	return next
}

// busy reports whether requests are waiting for replies, without the lock: a hint
// for the direct path's first look (it looks again under the lock).
func (q *inflight) busy() bool { return q.size.Load() != 0 }

// len returns the number of requests waiting for replies.
func (q *inflight) len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.n
}

// drain removes and returns every request.
func (q *inflight) drain() []*request {
	q.mu.Lock()
	defer q.mu.Unlock()
	out := make([]*request, 0, q.n)
	for q.n > 0 {
		out = append(out, q.buf[q.head])
		q.buf[q.head] = nil
		q.head = (q.head + 1) % len(q.buf)
		q.n--
	}
	q.size.Store(0)
	return out
}

// wakeAll wakes the callers of every request in the queue, and of every request
// pushed from now on: the connection ended (kill), so no reply will complete them.
// Requests stay in the queue: the reader may still be looking at the front one.
func (q *inflight) wakeAll() {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.dead = true
	for i := range q.n {
		q.buf[(q.head+i)%len(q.buf)].wakeUp()
	}
}
