package redistest

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/redline-go/redline/resp"
)

// adminConn is the harness's own connection to one redis-server, straight to the
// server's real port (never through the fault proxy). It is used for cluster setup,
// control and checks; one command at a time.
type adminConn struct {
	addr     string
	tls      *tls.Config // nil for plain TCP
	password string      // sent with AUTH after connecting, when set

	mu   sync.Mutex
	conn net.Conn
	rd   *resp.Reader
	buf  []byte
}

// defaultAdminTimeout bounds an admin command whose context has no deadline.
const defaultAdminTimeout = 10 * time.Second

// do runs one command and returns its reply. A server error reply is returned as
// a *resp.Error. Any I/O error closes the connection; the next call dials again.
func (a *adminConn) do(ctx context.Context, args ...any) (resp.Value, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, defaultAdminTimeout)
		defer cancel()
	}
	v, err := a.roundTrip(ctx, args)
	if err != nil {
		a.closeLocked()
		// The socket deadline is the context's: a socket timeout at or after it is the
		// context's deadline, even if the context's own timer has not fired yet.
		var ne net.Error
		dl, _ := ctx.Deadline()
		switch {
		case ctx.Err() != nil:
			err = fmt.Errorf("%w (%v)", ctx.Err(), err)
		case errors.As(err, &ne) && ne.Timeout() && !time.Now().Before(dl):
			err = fmt.Errorf("%w (%v)", context.DeadlineExceeded, err)
		}
		return resp.Value{}, fmt.Errorf("redistest: %s %v: %w", a.addr, commandName(args), err)
	}
	if v.Err != nil {
		return v, v.Err
	}
	return v, nil
}

func (a *adminConn) roundTrip(ctx context.Context, args []any) (resp.Value, error) {
	if a.conn == nil {
		if err := a.dial(ctx); err != nil {
			return resp.Value{}, err
		}
	}
	conn := a.conn
	dl, _ := ctx.Deadline()
	conn.SetDeadline(dl)
	// Unblock the call if the context is canceled before its deadline.
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	var err error
	a.buf, err = resp.AppendCommand(a.buf[:0], args...)
	if err != nil {
		return resp.Value{}, err
	}
	if _, err := a.conn.Write(a.buf); err != nil {
		return resp.Value{}, err
	}
	return a.rd.ReadValue()
}

func (a *adminConn) dial(ctx context.Context) error {
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", a.addr)
	if err != nil {
		return err
	}
	if a.tls != nil {
		conf := a.tls
		if conf.ServerName == "" {
			conf = conf.Clone()
			conf.ServerName, _, _ = net.SplitHostPort(a.addr)
		}
		tc := tls.Client(c, conf)
		if err := tc.HandshakeContext(ctx); err != nil {
			c.Close()
			return err
		}
		c = tc
	}
	a.conn = c
	a.rd = resp.NewReader(c, resp.Limits{})
	if dl, ok := ctx.Deadline(); ok {
		c.SetDeadline(dl)
	}
	if a.password != "" {
		a.buf = resp.AppendCommandStrings(a.buf[:0], "AUTH", a.password)
		if _, err := c.Write(a.buf); err != nil {
			return err
		}
		v, err := a.rd.ReadValue()
		if err != nil {
			return err
		}
		if v.Err != nil {
			return v.Err
		}
	}
	return nil
}

func (a *adminConn) close() {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.closeLocked()
}

func (a *adminConn) closeLocked() {
	if a.conn != nil {
		a.conn.Close()
		a.conn = nil
		a.rd = nil
	}
}

func commandName(args []any) string {
	if len(args) == 0 {
		return "(empty)"
	}
	s := fmt.Sprint(args[0])
	if len(args) > 1 {
		if sub, ok := args[1].(string); ok && (s == "CLUSTER" || s == "CONFIG" || s == "CLIENT") {
			s += " " + sub
		}
	}
	return s
}

// text returns the reply as a string (simple, bulk or verbatim string).
func text(v resp.Value) (string, error) {
	switch v.Type {
	case resp.TypeSimpleString, resp.TypeBulkString, resp.TypeVerbatim:
		return string(v.Str), nil
	}
	return "", fmt.Errorf("redistest: expected a string reply, got %s", v.String())
}
