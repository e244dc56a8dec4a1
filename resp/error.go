package resp

import "strings"

// NumSlots is the number of hash slots of a Redis Cluster; valid slots are 0..NumSlots-1.
const NumSlots = 16384

// Error is a server error reply (RESP "-" or "!"), parsed once when it is decoded.
//
// A MOVED or ASK redirection carries the slot and the address of the node to ask:
// "MOVED 3999 127.0.0.1:6381" has Code "MOVED", Slot 3999 and Addr "127.0.0.1:6381".
// Addr is kept as sent: an IPv6 host may come bracketed ("[::1]:7000") or not ("::1:7000"),
// and Redis 7 sends an empty host (":6381") to mean "the host of the connection that received
// this reply", which the caller must fill in. A redirection that cannot be followed (slot not
// a number in 0..16383, address missing or without a port in 1..65535, extra words) keeps
// its Code but has Slot -1 and Addr "", and [Error.IsMoved] and [Error.IsAsk] report false.
type Error struct {
	// Code is the first word of the message when it is an upper-case identifier (a letter,
	// then upper-case letters, digits or underscores), such as "ERR", "WRONGTYPE" or
	// "MOVED"; "" otherwise.
	Code string
	// Msg is the whole message as sent, without the leading '-' and the trailing CRLF.
	Msg string
	// Slot is the hash slot of a well-formed MOVED or ASK redirection; -1 otherwise.
	Slot int
	// Addr is the "host:port" of a well-formed MOVED or ASK redirection, as sent; ""
	// otherwise. The host may be empty (see above).
	Addr string
	// From is the address (host:port) of the node that sent the reply, set by the
	// connection that read it; "" when not known (a message parsed on its own).
	From string
}

// Error returns the message as sent by the server, followed by the node that sent it
// when known: "WRONGTYPE Operation against a key holding the wrong kind of value (from
// 10.0.0.3:6380)". Msg is the message alone.
func (e *Error) Error() string {
	if e.From == "" {
		return e.Msg
	}
	return e.Msg + " (from " + e.From + ")"
}

// IsMoved reports whether e is a well-formed MOVED redirection: the slot has moved to Addr
// for good.
func (e *Error) IsMoved() bool { return e != nil && e.Code == "MOVED" && e.Slot >= 0 }

// IsAsk reports whether e is a well-formed ASK redirection: this one command should be sent
// to Addr, preceded by ASKING.
func (e *Error) IsAsk() bool { return e != nil && e.Code == "ASK" && e.Slot >= 0 }

// IsRetryable reports whether the server says that retrying later is safe: TRYAGAIN,
// CLUSTERDOWN, LOADING or MASTERDOWN. The command was not executed.
func (e *Error) IsRetryable() bool {
	if e == nil {
		return false
	}
	switch e.Code {
	case "TRYAGAIN", "CLUSTERDOWN", "LOADING", "MASTERDOWN":
		return true
	}
	return false
}

// ParseError parses a server error message (without the leading '-' and trailing CRLF).
// It never fails and never panics: a message that is not in the usual "CODE text" form has
// Code "", and a malformed redirection has Slot -1 and Addr "". Code and Addr share the
// memory of msg.
func ParseError(msg string) *Error {
	e := &Error{Msg: msg, Slot: -1}
	word := msg
	if i := strings.IndexByte(msg, ' '); i >= 0 {
		word = msg[:i]
	}
	if !isCode(word) {
		return e
	}
	e.Code = word
	if word == "MOVED" || word == "ASK" {
		e.Slot, e.Addr = parseRedirect(msg[len(word):])
	}
	return e
}

// isCode reports whether w is an upper-case identifier: A-Z, then A-Z, 0-9 or '_'.
func isCode(w string) bool {
	if w == "" || w[0] < 'A' || w[0] > 'Z' {
		return false
	}
	for i := 1; i < len(w); i++ {
		c := w[i]
		if !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// parseRedirect parses " <slot> <host:port>", the rest of a MOVED or ASK message. It returns
// -1, "" unless both parts are valid and nothing follows them.
func parseRedirect(rest string) (int, string) {
	rest, ok := strings.CutPrefix(rest, " ")
	if !ok {
		return -1, ""
	}
	slotText, addr, ok := strings.Cut(rest, " ")
	if !ok || !validAddr(addr) {
		return -1, ""
	}
	slot, ok := parseSmallUint(slotText, NumSlots-1)
	if !ok {
		return -1, ""
	}
	return slot, addr
}

// validAddr reports whether a is "host:port" with a port in 1..65535 and no blanks or control
// bytes. The host may be empty, bracketed or an unbracketed IPv6 address: the port is what
// follows the last colon.
func validAddr(a string) bool {
	i := strings.LastIndexByte(a, ':')
	if i < 0 {
		return false
	}
	for j := 0; j < i; j++ {
		if a[j] <= ' ' || a[j] == 0x7f {
			return false
		}
	}
	port, ok := parseSmallUint(a[i+1:], 65535)
	return ok && port > 0
}

// parseSmallUint parses 1 to 5 decimal digits into a number no greater than limit.
func parseSmallUint(s string, limit int) (int, bool) {
	if len(s) == 0 || len(s) > 5 {
		return 0, false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, n <= limit
}
