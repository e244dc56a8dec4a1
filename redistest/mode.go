package redistest

import (
	"fmt"
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
)

// Mode is a fault mode of a node's proxy. The zero Mode is Pass.
type Mode struct {
	kind  modeKind
	delay time.Duration
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

// Delay returns the round-trip delay of a Slow mode, and 0 for other modes.
func (m Mode) Delay() time.Duration { return m.delay }

// String returns the mode's name as the CLI and test logs spell it: pass, refuse,
// blackhole, hang, slow(100ms), reset, tls-bad.
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
	}
	return fmt.Sprintf("mode(%d)", m.kind)
}

// ParseMode parses a mode name as printed by Mode.String; "slow" takes a duration,
// as in "slow(100ms)" or "slow:100ms".
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
	}
	var arg string
	switch {
	case len(s) > 6 && s[:5] == "slow(" && s[len(s)-1] == ')':
		arg = s[5 : len(s)-1]
	case len(s) > 5 && s[:5] == "slow:":
		arg = s[5:]
	default:
		return Mode{}, fmt.Errorf("redistest: unknown fault mode %q (want pass, refuse, blackhole, hang, slow(d), reset or tls-bad)", s)
	}
	d, err := time.ParseDuration(arg)
	if err != nil || d < 0 {
		return Mode{}, fmt.Errorf("redistest: bad delay in fault mode %q", s)
	}
	return Slow(d), nil
}

// holds reports whether the mode holds data on established connections.
func (m Mode) holds() bool { return m.kind == kindHang || m.kind == kindBlackhole }

// dropsConns reports whether switching to the mode closes established connections.
func (m Mode) dropsConns() bool {
	return m.kind == kindRefuse || m.kind == kindReset || m.kind == kindTLSBad
}

// listens reports whether the mode accepts connections on an ordinary listener.
func (m Mode) listens() bool { return m.kind != kindRefuse && m.kind != kindBlackhole }
