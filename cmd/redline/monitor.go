package main

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/redline-go/redline/resp"
)

// MONITOR turns the connection it is sent on into a stream of every command the node
// runs; the client shares its connections and refuses it (a *ConnStateError), so the
// CLI opens a plain connection of its own per node, with the same TLS and credentials,
// and speaks RESP with the resp codec.

// monitorDialer opens MONITOR connections.
type monitorDialer struct {
	conn *connFlags
	tls  *tls.Config
}

// monitorLine is one line of a node's MONITOR stream, or its end.
type monitorLine struct {
	addr string
	line string
	err  error // the stream ended (or never started) with this
}

// runMonitor runs MONITOR on the node of --node, or every primary with
// --all-primaries, else every node, each line tagged with its node, until Ctrl-C
// (which ends only this command). 1 if no node could be monitored, or all streams
// broke.
func (s *session) runMonitor(ctx context.Context, words []string) int {
	if len(words) != 1 {
		fmt.Fprintln(s.stderr, "(error) MONITOR takes no argument")
		return 1
	}
	addrs := s.c.NodeAddrs()
	switch {
	case s.f.node != "":
		addrs = []string{s.f.node}
	case s.f.allPrimaries:
		addrs = s.c.PrimaryAddrs()
	}
	if len(addrs) == 0 {
		fmt.Fprintf(s.stderr, "%s: no node to monitor (the topology lists none)\n", s.name)
		return 1
	}
	sctx, done := sigint.streamContext(ctx)
	defer done()
	lines := make(chan monitorLine, 64)
	var wg sync.WaitGroup
	for _, a := range addrs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.monitor.stream(sctx, a, lines)
		}()
	}
	go func() { wg.Wait(); close(lines) }()
	fmt.Fprintf(s.stderr, "Monitoring %s (press Ctrl-C to stop)...\n", plural(len(addrs), "node"))
	defer s.streamEnded(sctx)
	live := len(addrs)
	for l := range lines {
		if l.err != nil {
			live--
			if sctx.Err() == nil {
				fmt.Fprintf(s.stderr, "%s: MONITOR on %s: %s\n", s.name, l.addr, errLine(l.err))
			}
			continue
		}
		if s.out.json {
			b, _ := json.Marshal(map[string]string{"node": l.addr, "line": l.line})
			fmt.Fprintf(s.stdout, "%s\n", b)
		} else {
			fmt.Fprintf(s.stdout, "%s %s\n", l.addr, l.line)
		}
	}
	if sctx.Err() == nil && live == 0 {
		return 1
	}
	return 0
}

// stream monitors addr until ctx is done or the connection breaks, sending its lines
// and then its end (err) to out.
func (d monitorDialer) stream(ctx context.Context, addr string, out chan<- monitorLine) {
	nc, rd, err := d.open(ctx, addr)
	if err != nil {
		out <- monitorLine{addr: addr, err: err}
		return
	}
	stop := context.AfterFunc(ctx, func() { nc.Close() })
	defer stop()
	defer nc.Close()
	for {
		v, err := rd.ReadValue()
		if err != nil {
			if ctx.Err() != nil {
				err = ctx.Err()
			}
			out <- monitorLine{addr: addr, err: fmt.Errorf("read: %w", err)}
			return
		}
		if v.IsError() {
			out <- monitorLine{addr: addr, err: fmt.Errorf("the node answered: %s", v.Str)}
			return
		}
		out <- monitorLine{addr: addr, line: string(v.Str)}
	}
}

// open dials addr, authenticates and sends MONITOR, all within --timeout, and returns
// the connection and its reader once the node said OK. Errors name the phase.
func (d monitorDialer) open(ctx context.Context, addr string) (net.Conn, *resp.Reader, error) {
	ctx, cancel := context.WithTimeout(ctx, d.conn.timeout)
	defer cancel()
	var nd net.Dialer
	nc, err := nd.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, nil, fmt.Errorf("dial: %w", err)
	}
	deadline, _ := ctx.Deadline()
	nc.SetDeadline(deadline)
	stop := context.AfterFunc(ctx, func() { nc.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	if d.tls != nil {
		conf := d.tls.Clone()
		if conf.ServerName == "" {
			conf.ServerName, _, _ = net.SplitHostPort(addr)
		}
		tc := tls.Client(nc, conf)
		if err := tc.HandshakeContext(ctx); err != nil {
			nc.Close()
			return nil, nil, fmt.Errorf("tls: %w", err)
		}
		nc = tc
	}
	rd := resp.NewReader(nc, resp.Limits{})
	call := func(phase string, args ...string) error {
		if _, err := nc.Write(resp.AppendCommandStrings(nil, args...)); err != nil {
			return fmt.Errorf("%s: write: %w", phase, err)
		}
		v, err := rd.ReadValue()
		if err != nil {
			return fmt.Errorf("%s: read: %w", phase, err)
		}
		if v.IsError() {
			return fmt.Errorf("%s: %s", phase, v.Str)
		}
		return nil
	}
	if pass := d.conn.password(); !pass.IsZero() {
		args := []string{"AUTH", pass.Reveal()}
		if d.conn.user != "" {
			args = []string{"AUTH", d.conn.user, pass.Reveal()}
		}
		if err := call("auth", args...); err != nil {
			nc.Close()
			return nil, nil, err
		}
	} else if d.conn.user != "" {
		nc.Close()
		return nil, nil, errors.New("auth: --user needs a password")
	}
	if err := call("monitor", "MONITOR"); err != nil {
		nc.Close()
		return nil, nil, err
	}
	nc.SetDeadline(time.Time{})
	return nc, rd, nil
}
