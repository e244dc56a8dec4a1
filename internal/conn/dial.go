package conn

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/redline-go/redline/internal/rerr"
	"github.com/redline-go/redline/resp"
)

// Dial connects to opts.Addr in named phases — TCP (rerr.PhaseDial), TLS
// (rerr.PhaseTLS), then HELLO / AUTH / CLIENT SETNAME / READONLY
// (rerr.PhaseHandshake) — all bounded by ctx (10s when ctx has no deadline). A failure
// is a *rerr.NodeError naming the phase, with the cause (the x509 error for a rejected
// certificate, the server's error for a refused AUTH).
func Dial(ctx context.Context, opts *Options) (*Conn, error) {
	o, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, defaultHandshakeTimeout)
		defer cancel()
	}
	start := time.Now()
	fail := func(phase rerr.Phase, err error) (*Conn, error) {
		if ctx.Err() != nil && rerr.IsTimeout(err) {
			// Say so plainly: the attempt ran out of time in this phase.
			err = fmt.Errorf("no answer, gave up after %v: %w", time.Since(start).Round(time.Millisecond), err)
		}
		return nil, &rerr.NodeError{Addr: o.Addr, Phase: phase, Err: err}
	}
	phase := func(p rerr.Phase) {
		if o.OnPhase != nil {
			o.OnPhase(p)
		}
	}
	phase(rerr.PhaseDial)
	nc, err := o.DialContext(ctx, "tcp", o.Addr)
	if err != nil {
		return fail(rerr.PhaseDial, err)
	}
	if tc, ok := nc.(*net.TCPConn); ok {
		tc.SetNoDelay(true)
		tc.SetKeepAlive(true)
	}
	if o.TLS != nil {
		phase(rerr.PhaseTLS)
		tc := tls.Client(nc, o.TLS)
		if err := tc.HandshakeContext(ctx); err != nil {
			nc.Close()
			return fail(rerr.PhaseTLS, err)
		}
		nc = tc
	}
	phase(rerr.PhaseHandshake)
	var rtt time.Duration // the handshake's last round trip: cheap commands
	g, err := handshake(ctx, nc, o, &rtt)
	if err != nil {
		nc.Close()
		return fail(rerr.PhaseHandshake, err)
	}
	nc.SetDeadline(time.Time{})
	return newConn(nc, o, g, rtt), nil
}

// handshake negotiates the protocol, authenticates, names the connection and sends
// READONLY, pipelined: one round trip (two when the server does not know HELLO),
// whose duration it stores in *rtt. With AskZone, INFO server goes in the same round
// trip (see zone.go); its failure is not the handshake's.
func handshake(ctx context.Context, nc net.Conn, o *Options, rtt *time.Duration) (greeting, error) {
	dl, _ := ctx.Deadline()
	nc.SetDeadline(dl)
	stop := context.AfterFunc(ctx, func() { nc.SetDeadline(time.Unix(1, 0)) })
	defer stop()

	user, pass := o.Username, o.Password.Reveal()
	if o.Credentials != nil {
		var err error
		if user, pass, err = o.Credentials(ctx); err != nil {
			return greeting{}, fmt.Errorf("credentials: %w", err)
		}
	}
	rd := resp.NewReaderSize(nc, 4096, handshakeLimits(o.Limits))
	roundTrip := func(cmds [][]string) ([]resp.Value, error) {
		var buf []byte
		for _, cmd := range cmds {
			buf = resp.AppendCommandStrings(buf, cmd...)
		}
		start := time.Now()
		defer func() { *rtt = time.Since(start) }()
		if _, err := nc.Write(buf); err != nil {
			return nil, err
		}
		out := make([]resp.Value, len(cmds))
		for i := range cmds {
			v, err := rd.ReadValue()
			if err != nil {
				return nil, err
			}
			out[i] = v
		}
		return out, nil
	}
	var tail [][]string
	if o.DB != 0 {
		tail = append(tail, []string{"SELECT", strconv.Itoa(o.DB)})
	}
	if o.ReadOnly {
		tail = append(tail, []string{"READONLY"})
	}
	if len(o.Tracking) > 0 {
		tail = append(tail, o.Tracking)
	}
	extra := zoneQuery(o) // answered, not checked

	if o.Protocol == 3 {
		hello := []string{"HELLO", "3"}
		if pass != "" {
			hello = append(hello, "AUTH", orDefault(user), pass)
		}
		if o.ClientName != "" {
			hello = append(hello, "SETNAME", o.ClientName)
		}
		replies, err := roundTrip(append(append([][]string{hello}, tail...), extra...))
		if err != nil {
			return greeting{}, err
		}
		if e := replies[0].Err; e == nil {
			if err := checkReplies(replies[1:1+len(tail)], tail); err != nil {
				return greeting{}, err
			}
			if rd.Buffered() > 0 {
				return greeting{}, fmt.Errorf("%w: unexpected data after the handshake", resp.ErrProtocol)
			}
			return greeting{proto: 3, hello: replies[0], zone: zoneOf(replies[0], replies[1+len(tail):])}, nil
		} else if !helloUnknown(e) {
			return greeting{}, fmt.Errorf("HELLO: %w", e)
		}
		// The server predates HELLO: RESP2 with AUTH and CLIENT SETNAME.
	}
	if len(o.Tracking) > 0 {
		return greeting{}, errTrackingRESP2
	}
	var cmds [][]string
	if pass != "" {
		if user != "" {
			cmds = append(cmds, []string{"AUTH", user, pass})
		} else {
			cmds = append(cmds, []string{"AUTH", pass})
		}
	}
	if o.ClientName != "" {
		cmds = append(cmds, []string{"CLIENT", "SETNAME", o.ClientName})
	}
	cmds = append(cmds, tail...)
	checked := len(cmds)
	cmds = append(cmds, extra...)
	if len(cmds) == 0 {
		return greeting{proto: 2}, nil
	}
	replies, err := roundTrip(cmds)
	if err != nil {
		return greeting{}, err
	}
	if err := checkReplies(replies[:checked], cmds); err != nil {
		return greeting{}, err
	}
	if rd.Buffered() > 0 {
		return greeting{}, fmt.Errorf("%w: unexpected data after the handshake", resp.ErrProtocol)
	}
	return greeting{proto: 2, zone: zoneOf(resp.Value{}, replies[checked:])}, nil
}

// The least limits the handshake's reader has, whatever Options.Limits say: its
// replies are the server's own, small and bounded (HELLO's map, INFO server's ~1 KiB
// text), and a limit set for the application's replies must not fail every handshake
// (INFO server, sent for the zone, is longer than a MaxReplyBulkLen of a few hundred
// bytes). Larger limits are kept.
const (
	handshakeMinBulkLen      = 64 << 10
	handshakeMinAggregateLen = 1024
)

// handshakeLimits returns l raised to the handshake's least limits.
func handshakeLimits(l resp.Limits) resp.Limits {
	if l.MaxBulkLen > 0 && l.MaxBulkLen < handshakeMinBulkLen {
		l.MaxBulkLen = handshakeMinBulkLen
	}
	if l.MaxAggregateLen > 0 && l.MaxAggregateLen < handshakeMinAggregateLen {
		l.MaxAggregateLen = handshakeMinAggregateLen
	}
	return l
}

// checkReplies returns the first server error among replies, naming its command.
func checkReplies(replies []resp.Value, cmds [][]string) error {
	for i, v := range replies {
		if v.Err != nil && !readOnlyStandalone(cmds[i], v.Err) {
			name := cmds[i][0]
			if name == "CLIENT" && len(cmds[i]) > 1 {
				name = "CLIENT " + strings.ToUpper(cmds[i][1])
			}
			return fmt.Errorf("%s: %w", name, v.Err)
		}
	}
	return nil
}

// errTrackingRESP2 fails the handshake of a tracking connection that cannot speak
// RESP3: its invalidations could not reach it.
var errTrackingRESP2 = errors.New("client-side caching needs RESP3 (CLIENT TRACKING invalidations are pushes), and the server does not speak it (no HELLO)")

// readOnlyStandalone reports whether e is a standalone server's answer to READONLY
// (cluster support disabled): a client reading from replicas sends READONLY before it
// knows the server's shape, and a standalone replica serves reads without it.
func readOnlyStandalone(cmd []string, e *resp.Error) bool {
	return cmd[0] == "READONLY" && strings.Contains(e.Msg, "cluster support disabled")
}

// helloUnknown reports whether a HELLO error means the server does not support it.
func helloUnknown(e *resp.Error) bool {
	return e.Code == "NOPROTO" || strings.Contains(strings.ToLower(e.Msg), "unknown command")
}

func orDefault(user string) string {
	if user == "" {
		return "default"
	}
	return user
}
