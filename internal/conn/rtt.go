package conn

import "time"

// The round-trip floor: the lowest round trip of the replies of the last 10–20 s. A
// moving average of round trips also counts the time the server spent executing
// (a 1s script, DEBUG SLEEP, a large SORT), so it is no estimate of how long a cheap
// command such as CLIENT UNBLOCK takes to be answered; the lowest recent sample is.
// The handshake's round trip seeds it, so a connection that has only carried slow
// commands still has a fair estimate.

// rttWindow is the length of one window of samples; the floor is the lower minimum
// of the current and the previous window, so a sample is forgotten after one to two
// windows (a network path that became slower shows within 20s).
const rttWindow = 10 * time.Second

// rttFloor is the reader goroutine's state of the floor estimate.
type rttFloor struct {
	cur, prev time.Duration // minimum of the current and previous window; 0 = none
	since     time.Time     // when the current window started
	last      time.Duration // the estimate last published
}

// add records sample s taken at now and returns the estimate.
func (f *rttFloor) add(now time.Time, s time.Duration) time.Duration {
	if now.Sub(f.since) >= rttWindow {
		f.prev, f.cur, f.since = f.cur, s, now
	} else if f.cur == 0 || s < f.cur {
		f.cur = s
	}
	if f.prev != 0 && f.prev < f.cur {
		return f.prev
	}
	return f.cur
}

// sampleRTT feeds one round-trip sample to the floor estimate (reader goroutine only).
func (c *Conn) sampleRTT(f *rttFloor, now time.Time, s time.Duration) {
	if e := f.add(now, s); e != f.last {
		f.last = e
		c.rtt.Store(int64(e))
	}
}

// RTT returns the connection's round-trip floor: the lowest round trip of the replies
// of the last 10–20 s (the handshake's until then), which leaves out the time the
// server spent executing commands. Use it to estimate how long a cheap command takes to
// be answered; Latency is the moving average of every reply.
func (c *Conn) RTT() time.Duration { return time.Duration(c.rtt.Load()) }

// LastRead returns when the connection last received data (or last sent an idle check).
func (c *Conn) LastRead() time.Time { return time.Unix(0, c.lastRead.Load()) }
