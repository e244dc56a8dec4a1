package redistest

import (
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"
)

// modeKind enumerates the proxy's fault modes.
type modeKind uint8

const (
	kindPass modeKind = iota
	kindRefuse
	kindBlackhole
	kindHang
	kindSlow
	kindReset
	kindTLSBad
	kindDribble
	kindResetMidReply
	kindCloseAfterRequest
	kindStall
	kindStaleMaster
)

// Mode is a fault mode of a node's proxy. The zero Mode is Pass.
type Mode struct {
	kind  modeKind
	delay time.Duration
	n     int    // Dribble: bytes per piece; ResetMidReply: bytes delivered before the reset
	addr  string // StaleMaster: the primary's address the Sentinel reports
}

var (
	// Pass forwards traffic both ways unchanged.
	Pass = Mode{kind: kindPass}
	// Refuse closes the proxy's listener: new connections are refused at once
	// (ECONNREFUSED); existing connections are closed.
	Refuse = Mode{kind: kindRefuse}
	// Blackhole makes new TCP connects never complete (the SYN is dropped, so a dialer
	// ends at its own timeout); existing connections stay open but nothing is delivered
	// in either direction until the mode changes (held data is then delivered, as TCP
	// would after a healed partition).
	Blackhole = Mode{kind: kindBlackhole}
	// Hang accepts connections but delivers nothing in either direction (requests and
	// replies are held, a TLS handshake stalls) until the mode changes.
	Hang = Mode{kind: kindHang}
	// Reset resets existing connections (RST) and resets every new connection right
	// after accepting it.
	Reset = Mode{kind: kindReset}
	// TLSBad closes existing connections and answers every new connection's TLS
	// handshake itself, with a certificate from a CA the client does not trust (the
	// names in it are right, so the client's error is about the signer).
	TLSBad = Mode{kind: kindTLSBad}
	// CloseAfterRequest lets requests reach the node, which executes them; the first
	// reply data the node sends back on a connection is dropped and the connection
	// closed (FIN) instead, before any byte of the reply reaches the client: the
	// "request sent, reply lost" case. Connections made in this mode end the same way
	// at their first reply (a handshake's).
	CloseAfterRequest = Mode{kind: kindCloseAfterRequest}
)

// Slow returns a mode that forwards traffic with every round trip delayed by d: data
// in each direction is held for d/2 after it arrives (timed per chunk, so pipelined
// traffic is delayed, not throttled).
func Slow(d time.Duration) Mode {
	if d < 0 {
		d = 0
	}
	return Mode{kind: kindSlow, delay: d}
}

// Stall returns a mode that holds replies: data from the node is delivered d after it
// arrives at the proxy (requests pass at once, so the node executes them at once).
// With d longer than a call's deadline, the call ends first and its reply comes later.
func Stall(d time.Duration) Mode {
	return Mode{kind: kindStall, delay: max(d, 0)}
}

// Dribble returns a mode that delivers replies in pieces of at most size bytes, gap
// apart (requests pass at once): a client's reader meets replies split at every byte
// boundary. A size below 1 means 1.
func Dribble(size int, gap time.Duration) Mode {
	return Mode{kind: kindDribble, delay: max(gap, 0), n: max(size, 1)}
}

// ResetMidReply returns a mode that cuts replies: of the next reply data a connection
// receives from the node, at most n bytes (and never all of it) reach the client, and
// then the connection is reset (RST). The node has executed the request. Connections
// made in this mode end the same way at their first reply (a handshake's).
func ResetMidReply(n int) Mode {
	return Mode{kind: kindResetMidReply, n: max(n, 0)}
}

// Delay returns the round-trip delay of a Slow mode, the hold of a Stall mode, the gap
// of a Dribble mode, and 0 for other modes.
func (m Mode) Delay() time.Duration { return m.delay }

// Bytes returns a Dribble mode's piece size and a ResetMidReply mode's byte count, and
// 0 for other modes.
func (m Mode) Bytes() int { return m.n }

// String returns the mode's name as the CLI and test logs spell it: pass, refuse,
// blackhole, hang, slow(100ms), reset, tls-bad, close-after-request, stall(1s),
// dribble(1,2ms), reset-mid-reply(5), stale-master(127.0.0.1:7000).
func (m Mode) String() string {
	switch m.kind {
	case kindPass:
		return "pass"
	case kindRefuse:
		return "refuse"
	case kindBlackhole:
		return "blackhole"
	case kindHang:
		return "hang"
	case kindSlow:
		return fmt.Sprintf("slow(%v)", m.delay)
	case kindReset:
		return "reset"
	case kindTLSBad:
		return "tls-bad"
	case kindCloseAfterRequest:
		return "close-after-request"
	case kindStall:
		return fmt.Sprintf("stall(%v)", m.delay)
	case kindDribble:
		return fmt.Sprintf("dribble(%d,%v)", m.n, m.delay)
	case kindResetMidReply:
		return fmt.Sprintf("reset-mid-reply(%d)", m.n)
	case kindStaleMaster:
		return fmt.Sprintf("stale-master(%s)", m.addr)
	}
	return fmt.Sprintf("mode(%d)", m.kind)
}

// ParseMode parses a mode name as printed by Mode.String. Modes with arguments take
// them in parentheses or after a colon: "slow(100ms)" or "slow:100ms", "stall(1s)",
// "dribble(1,2ms)" (bytes per piece, gap), "reset-mid-reply(5)" (bytes),
// "stale-master(127.0.0.1:7000)" (host:port).
func ParseMode(s string) (Mode, error) {
	switch s {
	case "pass":
		return Pass, nil
	case "refuse":
		return Refuse, nil
	case "blackhole":
		return Blackhole, nil
	case "hang":
		return Hang, nil
	case "reset":
		return Reset, nil
	case "tls-bad":
		return TLSBad, nil
	case "close-after-request":
		return CloseAfterRequest, nil
	}
	bad := fmt.Errorf("redistest: unknown fault mode %q (want pass, refuse, blackhole, hang, slow(d), reset, tls-bad, close-after-request, stall(d), dribble(n,d), reset-mid-reply(n) or stale-master(host:port))", s)
	name, arg, ok := strings.Cut(s, "(")
	if ok {
		if arg, ok = strings.CutSuffix(arg, ")"); !ok {
			return Mode{}, bad
		}
	} else if name, arg, ok = strings.Cut(s, ":"); !ok {
		return Mode{}, bad
	}
	badArg := fmt.Errorf("redistest: bad argument in fault mode %q", s)
	switch name {
	case "slow", "stall":
		d, err := time.ParseDuration(arg)
		if err != nil || d < 0 {
			return Mode{}, badArg
		}
		if name == "slow" {
			return Slow(d), nil
		}
		return Stall(d), nil
	case "dribble":
		ns, ds, ok := strings.Cut(arg, ",")
		n, err1 := strconv.Atoi(ns)
		d, err2 := time.ParseDuration(ds)
		if !ok || err1 != nil || err2 != nil || n < 1 || d < 0 {
			return Mode{}, badArg
		}
		return Dribble(n, d), nil
	case "reset-mid-reply":
		n, err := strconv.Atoi(arg)
		if err != nil || n < 0 {
			return Mode{}, badArg
		}
		return ResetMidReply(n), nil
	case "stale-master":
		if _, _, err := net.SplitHostPort(arg); err != nil {
			return Mode{}, badArg
		}
		return StaleMaster(arg), nil
	}
	return Mode{}, bad
}

// faultsReplies reports whether the mode acts on reply data itself (cuts, drops or
// splits it) rather than only deciding when it passes.
func (m Mode) faultsReplies() bool {
	return m.kind == kindDribble || m.kind == kindResetMidReply || m.kind == kindCloseAfterRequest
}

// holds reports whether the mode holds data on established connections.
func (m Mode) holds() bool { return m.kind == kindHang || m.kind == kindBlackhole }

// dropsConns reports whether switching to the mode closes established connections.
func (m Mode) dropsConns() bool {
	return m.kind == kindRefuse || m.kind == kindReset || m.kind == kindTLSBad
}

// listens reports whether the mode accepts connections on an ordinary listener.
func (m Mode) listens() bool { return m.kind != kindRefuse && m.kind != kindBlackhole }
