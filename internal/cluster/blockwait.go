package cluster

import (
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/redline-go/redline/internal/command"
)

// A blocking command's deadline is the caller's context: the server's own wait (the
// timeout argument of BLPOP, XREAD's BLOCK, WAIT's timeout…) is what the caller asked
// for, and Options.CommandTimeout bounds only the rest — getting a connection,
// sending, and the answer's way back. So BLPOP q 0 with a context without deadline
// waits for its element however long that takes, and BLPOP q 5 for at most about 5s
// plus CommandTimeout (plus 100ms: the server may end a wait that late). Each command's timeout argument is parsed where it is, in the
// unit it has there.

// WAIT and WAITAOF count the acknowledgements of the writes made on their own
// connection before them (up to the offset the server recorded for that connection at
// its last command). They run on a dedicated connection, which carried none of the
// caller's writes: a fresh one would wait for nothing (offset 0) and answer at once with
// every replica connected. A PING sent first on the same connection records the
// server's current offset (Redis 7.0 records it after every command), which covers
// every write the node had executed, the caller's included.

// blockWait is what the client knows of a blocking command's wait on the server.
type blockWait struct {
	wait    time.Duration // the server's timeout (when !forever and known)
	forever bool          // no server timeout: only the caller's context ends it
	known   bool          // the timeout argument was found and parsed
	unblock bool          // ended on the server (CLIENT UNBLOCK) before its caller leaves
	ping    bool          // WAIT, WAITAOF: a PING goes first on the connection (see below)
}

// foreverWait is the health limit's extension for a wait without end: the
// connection is then checked by other means (see blocking.go).
const foreverWait = 100 * 365 * 24 * time.Hour

// block returns how long the server may hold the command: the connection's health
// limit is extended by that much.
func (b blockWait) block() time.Duration {
	if b.forever {
		return foreverWait
	}
	return b.wait
}

// serverTimerSlack is how late a server may end a blocking command at its timeout: it
// checks them when its event loop wakes, at least every 1000/hz ms (hz is 10 by
// default).
const serverTimerSlack = 100 * time.Millisecond

// deadline returns the deadline CommandTimeout sets a blocking command started at
// start: none for a wait without end, the server's timeout (plus serverTimerSlack)
// plus CommandTimeout for one with a timeout, and CommandTimeout alone when the
// timeout is not known (an argument that does not parse: the server answers with an
// error at once).
func (b blockWait) deadline(start time.Time, commandTimeout time.Duration) time.Time {
	switch {
	case b.forever:
		return time.Time{}
	case b.known:
		return start.Add(b.wait + serverTimerSlack + commandTimeout)
	}
	return start.Add(commandTimeout)
}

// blockingWait reports whether a command blocks on the server, and how long: the
// commands the table flags as blocking, and WAIT and WAITAOF (which it does not: WAIT
// is not flagged, WAITAOF is missing from the Redis 7.0 table). XREAD and XREADGROUP
// block only with BLOCK.
func blockingWait(info *command.Info, args []any) (blockWait, bool) {
	if info != nil && !info.Has(command.FlagBlocking) && info.Name != "wait" && info.Name != "waitaof" {
		return blockWait{}, false // the fast path: GET, SET, …
	}
	var name string
	if info != nil {
		name = info.Name
	} else {
		name = strings.ToLower(ArgString(args[0]))
		if name != "wait" && name != "waitaof" {
			return blockWait{}, false
		}
	}
	b := blockWait{unblock: unblockable[name], ping: name == "wait" || name == "waitaof"}
	switch name {
	case "blpop", "brpop", "bzpopmin", "bzpopmax", "brpoplpush", "blmove":
		b.setSeconds(args, len(args)-1)
	case "blmpop", "bzmpop":
		b.setSeconds(args, 1)
	case "xread", "xreadgroup":
		i := 1
		if name == "xreadgroup" {
			i = 4 // XREADGROUP GROUP group consumer ...
		}
		if !xreadBlock(&b, args, i) {
			return blockWait{}, false // no BLOCK: answered at once, like XRANGE
		}
	case "wait":
		b.setMillis(args, 2)
	case "waitaof":
		b.setMillis(args, 3)
	}
	return b, true
}

// isBlocking reports whether a command waits on the server (see blockingWait): it runs
// on a dedicated connection, never on a shared one.
func isBlocking(info *command.Info, args []any) bool {
	_, ok := blockingWait(info, args)
	return ok
}

// xreadBlock finds BLOCK among XREAD's options (from args[i] up to STREAMS) and sets
// b from its argument; false when there is no BLOCK.
func xreadBlock(b *blockWait, args []any, i int) bool {
	for i < len(args) {
		switch opt := ArgString(args[i]); {
		case strings.EqualFold(opt, "BLOCK"):
			b.setMillis(args, i+1)
			return true
		case strings.EqualFold(opt, "COUNT"):
			i += 2
		case strings.EqualFold(opt, "NOACK"):
			i++
		default: // STREAMS, or something the server will refuse
			return false
		}
	}
	return false
}

// setSeconds sets b from the timeout in seconds (a float; 0 is no timeout) at args[i].
func (b *blockWait) setSeconds(args []any, i int) {
	if i < 1 || i >= len(args) {
		return
	}
	s, err := strconv.ParseFloat(ArgString(args[i]), 64)
	if err != nil || s < 0 || math.IsNaN(s) || math.IsInf(s, 0) {
		return // the server answers with an error at once
	}
	b.set(s * float64(time.Second))
}

// setMillis sets b from the timeout in milliseconds (an integer; 0 is no timeout) at
// args[i].
func (b *blockWait) setMillis(args []any, i int) {
	if i < 1 || i >= len(args) {
		return
	}
	ms, err := strconv.ParseInt(ArgString(args[i]), 10, 64)
	if err != nil || ms < 0 {
		return
	}
	b.set(float64(ms) * float64(time.Millisecond))
}

// set sets b from a parsed timeout in nanoseconds.
func (b *blockWait) set(ns float64) {
	b.known = true
	if ns == 0 || ns >= float64(foreverWait) {
		b.forever = true
		return
	}
	b.wait = time.Duration(ns)
}
