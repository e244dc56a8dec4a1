package conn

import (
	"errors"
	"fmt"
	"strconv"

	"github.com/redline-go/redline/internal/rerr"
	"github.com/redline-go/redline/resp"
)

// Sync markers. RESP has no request IDs: replies are matched to requests by order
// alone, so a server that skips a reply, or sends one too many, shifts every later
// reply onto the wrong request. Such faults show first as a caller that gives up on a
// written request. So when one does, the connection verifies itself: a marker (PING
// with a token unique to the connection) is written after it, and every reply that
// completes a request after the given-up one is held back until the marker's reply
// comes back, at its place, carrying its token. Then the held replies are released;
// otherwise (another reply at the marker's place, or a token at another request's
// place) the connection dies and the held callers get the cause, never a wrong reply.
// Only connections whose callers gave up pay for this: the fast path only tests a
// reader-local flag. The marker goes behind every request already written, so a held
// reply may wait for a slow command's: a caller that leaves meanwhile is told its reply
// was read but held (errHeld), not that none came.

// errDesync is the cause of a connection closed because its replies and requests were
// found out of step.
var errDesync = errors.New("replies out of step with requests")

// markerPrefix starts every token; the connection's nonce follows it.
const markerPrefix = "redline-sync-"

// wantMarker asks for a marker to be written after everything already written (called
// when a caller gives up a written request). It never blocks: with the queue full, the
// writer adds one to its next batch.
func (c *Conn) wantMarker() {
	select {
	case <-c.closed:
		return
	default:
	}
	m := c.newMarker()
	select {
	case c.queue <- m:
	default:
		putRequest(m)
		c.markerWanted.Store(true)
	}
}

// newMarker returns a marker request with the connection's next token.
func (c *Conn) newMarker() *request {
	r := getRequest()
	r.token = c.markerToken + strconv.FormatUint(c.markerSeq.Add(1), 36)
	r.buf = resp.AppendCommandStrings(r.buf, "PING", r.token)
	r.n, r.health = 1, true // nobody waits for it; the reader checks it
	return r
}

// isMarkerReply reports whether v answers the PING carrying token: the token as a
// bulk string, or, on a RESP2 connection in subscribed mode, ["pong", token].
func isMarkerReply(v resp.Value, token string) bool {
	if v.Type == resp.TypeArray && len(v.Elems) == 2 {
		v = v.Elems[1]
	}
	return v.Type == resp.TypeBulkString && string(v.Str) == token
}

// looksLikeMarker reports whether v is some marker's reply of this connection.
func (c *Conn) looksLikeMarker(v resp.Value) bool {
	if v.Type == resp.TypeArray && len(v.Elems) == 2 {
		v = v.Elems[1]
	}
	return v.Type == resp.TypeBulkString && len(v.Str) > len(c.markerToken) && string(v.Str[:len(c.markerToken)]) == c.markerToken
}

// desyncErr is the connection's death when its replies are found out of step.
func (c *Conn) desyncErr(what string, v resp.Value) error {
	return c.nodeErr(rerr.PhaseRead, fmt.Errorf("%w: %w: %s (%.40s)", resp.ErrProtocol, errDesync, what, v.String()), true)
}

// syncState is the reader's side of the markers (reader goroutine only).
type syncState struct {
	unverified bool       // a reply went to a given-up request: hold until a marker
	held       []*request // requests completed since, in order, their callers waiting
}

// release completes the held requests (a marker verified the stream).
func (s *syncState) release() {
	for _, r := range s.held {
		r.complete(nil)
	}
	clear(s.held)
	s.held = s.held[:0]
	if cap(s.held) > 64 {
		s.held = nil
	}
	s.unverified = false
}

// IsDesync reports whether err is a connection's death because its replies were found
// out of step with its requests (a skipped or extra reply).
func IsDesync(err error) bool { return errors.Is(err, errDesync) }

// IsHeld reports whether err is a call's end while its reply, already read, was held
// for the verification of the stream after a request another caller gave up: the
// server answered (the command was executed), but the reply is not known to be its own.
func IsHeld(err error) bool { return errors.Is(err, errHeld) }
