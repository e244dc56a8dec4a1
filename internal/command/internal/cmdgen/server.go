package cmdgen

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"time"

	"github.com/redline-go/redline/resp"
)

// DefaultTimeout bounds a whole run of [Fetch] when Options.Timeout is zero.
const DefaultTimeout = 30 * time.Second

// startTimeout bounds the wait for a started redis-server to answer PING.
const startTimeout = 10 * time.Second

// InstallHint says how to get redis-server when it is missing.
const InstallHint = "run make deps (scripts/deps.sh installs redis-server from Debian's packages)"

// Options configure [Fetch] and [Generate].
type Options struct {
	// RedisServer is the redis-server binary. Empty means "redis-server" from PATH.
	RedisServer string
	// Timeout bounds the whole run: start, queries and shutdown. Zero means DefaultTimeout.
	Timeout time.Duration
	// RESP2 asks for the COMMAND reply in RESP2 (HELLO 2) instead of RESP3, for tests of
	// the parser; the table does not depend on it.
	RESP2 bool
}

// Reply is what Fetch learned from the server.
type Reply struct {
	// Version is the server's version, from its HELLO reply.
	Version string
	// Command is the reply of COMMAND, in RESP3 unless Options.RESP2 was set.
	Command resp.Value
}

// ErrNoServer is matched by the error of Fetch when the redis-server binary is missing.
var ErrNoServer = errors.New("cmdgen: redis-server not found; " + InstallHint)

// Fetch starts a throwaway redis-server on a free loopback port (no persistence, its
// working directory a new temporary directory), waits until it answers PING, sends HELLO 3
// (HELLO 2 with Options.RESP2) and COMMAND, and returns the replies. The server is killed and its directory removed
// before Fetch returns, whatever happens.
func Fetch(ctx context.Context, opts Options) (Reply, error) {
	bin := opts.RedisServer
	if bin == "" {
		bin = "redis-server"
	}
	path, err := exec.LookPath(bin)
	if err != nil {
		return Reply{}, fmt.Errorf("%w (%v)", ErrNoServer, err)
	}
	timeout := opts.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	dir, err := os.MkdirTemp("", "redline-cmdgen-")
	if err != nil {
		return Reply{}, fmt.Errorf("cmdgen: %w", err)
	}
	defer os.RemoveAll(dir)

	// A free port can be taken by someone else before the server binds it: try again.
	for attempt := 1; ; attempt++ {
		srv, err := start(ctx, path, dir)
		if err != nil {
			if errors.Is(err, errExited) && attempt < 3 && ctx.Err() == nil {
				continue
			}
			return Reply{}, err
		}
		proto := "3"
		if opts.RESP2 {
			proto = "2"
		}
		r, err := query(ctx, srv.addr, proto)
		srv.stop()
		return r, err
	}
}

var errExited = errors.New("redis-server exited")

// server is a started redis-server process.
type server struct {
	cmd    *exec.Cmd
	addr   string
	exited chan struct{} // closed when the process has exited and been waited for
	out    *tailBuffer
}

func (s *server) stop() {
	_ = s.cmd.Process.Kill()
	<-s.exited
}

func start(ctx context.Context, path, dir string) (*server, error) {
	port, err := freePort()
	if err != nil {
		return nil, fmt.Errorf("cmdgen: finding a free port: %w", err)
	}
	s := &server{
		addr:   net.JoinHostPort("127.0.0.1", strconv.Itoa(port)),
		exited: make(chan struct{}),
		out:    &tailBuffer{max: 4 << 10},
	}
	s.cmd = exec.Command(path,
		"--port", strconv.Itoa(port),
		"--bind", "127.0.0.1",
		"--save", "",
		"--appendonly", "no",
		"--dir", dir,
		"--daemonize", "no",
		"--logfile", "",
	)
	s.cmd.Dir = dir
	s.cmd.Stdout = s.out
	s.cmd.Stderr = s.out
	s.cmd.SysProcAttr = childProcAttr()
	if err := s.cmd.Start(); err != nil {
		return nil, fmt.Errorf("cmdgen: starting %s: %w", path, err)
	}
	go func() {
		_ = s.cmd.Wait()
		close(s.exited)
	}()

	wait, cancel := context.WithTimeout(ctx, startTimeout)
	defer cancel()
	for {
		if pingOK(wait, s.addr) {
			return s, nil
		}
		select {
		case <-s.exited:
			return nil, fmt.Errorf("cmdgen: %w on port %d: %s", errExited, port, s.out.String())
		case <-wait.Done():
			s.stop()
			return nil, fmt.Errorf("cmdgen: redis-server on %s did not answer PING within %v: %s",
				s.addr, startTimeout, s.out.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// pingOK reports whether the server at addr answers PING with PONG.
func pingOK(ctx context.Context, addr string) bool {
	vals, err := roundTrip(ctx, addr, []string{"PING"})
	return err == nil && string(vals[0].Str) == "PONG"
}

func query(ctx context.Context, addr, proto string) (Reply, error) {
	vals, err := roundTrip(ctx, addr, []string{"HELLO", proto}, []string{"COMMAND"})
	if err != nil {
		return Reply{}, fmt.Errorf("cmdgen: querying redis-server on %s: %w", addr, err)
	}
	hello, cmds := vals[0], vals[1]
	if hello.IsError() {
		return Reply{}, fmt.Errorf("cmdgen: HELLO %s: %s", proto, hello.Str)
	}
	if cmds.IsError() {
		return Reply{}, fmt.Errorf("cmdgen: COMMAND: %s", cmds.Str)
	}
	var version string
	if hello.Type == resp.TypeMap || hello.Type == resp.TypeArray {
		for i := 0; i+1 < len(hello.Elems); i += 2 {
			if string(hello.Elems[i].Str) == "version" {
				version = string(hello.Elems[i+1].Str)
			}
		}
	}
	if version == "" {
		return Reply{}, fmt.Errorf("cmdgen: HELLO %s reply has no version: %v", proto, hello)
	}
	return Reply{Version: version, Command: cmds}, nil
}

// roundTrip sends the commands on one new connection and reads one reply each, all within
// ctx's deadline.
func roundTrip(ctx context.Context, addr string, cmds ...[]string) ([]resp.Value, error) {
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	if dl, ok := ctx.Deadline(); ok {
		_ = c.SetDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { _ = c.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	var buf []byte
	for _, cmd := range cmds {
		buf = resp.AppendCommandStrings(buf, cmd...)
	}
	if _, err := c.Write(buf); err != nil {
		return nil, err
	}
	r := resp.NewReader(c, resp.Limits{})
	vals := make([]resp.Value, len(cmds))
	for i := range vals {
		if vals[i], err = r.ReadValue(); err != nil {
			return nil, err
		}
	}
	return vals, nil
}

// tailBuffer keeps the last max bytes written to it, for error messages.
type tailBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
	max int
}

// Write keeps p, dropping the oldest bytes beyond max.
func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf.Write(p)
	if over := t.buf.Len() - t.max; over > 0 {
		t.buf.Next(over)
	}
	return len(p), nil
}

// String returns the bytes kept, trimmed, or "(no output)".
func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	s := bytes.TrimSpace(t.buf.Bytes())
	if len(s) == 0 {
		return "(no output)"
	}
	return string(s)
}
