package systest

import (
	"context"
	"errors"
	"net"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redline-go/redline"
	"github.com/redline-go/redline/internal/fakeserver"
	"github.com/redline-go/redline/internal/testkit"
	"github.com/redline-go/redline/resp"
)

// fakeCluster is a one-node "cluster" on the fake server: it answers CLUSTER SLOTS
// with itself owning every slot (CLUSTER SHARDS is unknown to it, as on Redis 6), GET
// of "ok" with "fine", and hands every other command to hostile.
type fakeCluster struct {
	srv  *fakeserver.Server
	addr string
}

func startFakeCluster(t *testing.T, hostile func(c *fakeserver.Conn, args []string) bool) *fakeCluster {
	t.Helper()
	fc := &fakeCluster{}
	fc.srv = fakeserver.New(func(c *fakeserver.Conn, args []string) bool {
		switch strings.ToUpper(args[0]) {
		case "CLUSTER":
			if len(args) > 1 && strings.EqualFold(args[1], "SLOTS") {
				host, port, _ := net.SplitHostPort(fc.addr)
				p, _ := strconv.Atoi(port)
				c.Reply(resp.Value{Type: resp.TypeArray, Elems: []resp.Value{{Type: resp.TypeArray, Elems: []resp.Value{
					fakeserver.Int(0), fakeserver.Int(16383),
					{Type: resp.TypeArray, Elems: []resp.Value{fakeserver.Bulk(host), fakeserver.Int(int64(p)), fakeserver.Bulk("fakenode")}},
				}}}})
				return true
			}
			c.Reply(fakeserver.Err("ERR unknown subcommand '" + args[1] + "'"))
			return true
		case "GET":
			if len(args) == 2 && args[1] == "ok" {
				c.Reply(fakeserver.Bulk("fine"))
				return true
			}
		}
		return hostile(c, args)
	})
	addr, err := fc.srv.Listen()
	if err != nil {
		t.Fatal(err)
	}
	fc.addr = addr
	t.Cleanup(fc.srv.Close)
	return fc
}

// TestReliabilityHostileServer puts a client in front of servers that break the
// protocol in every way the design lists — absurd or negative length prefixes, garbage,
// 100,000 nested arrays, a truncated reply then silence, a reply dripped byte by byte, a
// huge bulk announced and never finished, pushes before replies, one reply too many,
// no reply at all, and a handshake that never ends — and asserts, at the client's level:
// a clear error naming the node (and the protocol violation, or the deadline), returned
// by the call's deadline; no panic; memory in proportion to the bytes received, not to
// what a length prefix claims; the connection dropped, never a stale reply handed to a
// later call; and the client serving correct replies again afterwards by itself.
func TestReliabilityHostileServer(t *testing.T) {
	testkit.Heavy(t)
	const timeout = 300 * time.Millisecond
	type tc struct {
		name    string
		key     string                        // GET key triggers the behaviour
		reply   func(c *fakeserver.Conn)      // what the server sends
		check   func(t *testing.T, err error) // what the caller must see
		maxHeap uint64                        // bytes the call may allocate (0: 8 MiB)
	}
	isProto := func(kind error) func(t *testing.T, err error) {
		return func(t *testing.T, err error) {
			var ne *redline.NodeError
			if !errors.Is(err, kind) || !errors.As(err, &ne) {
				t.Errorf("got %v, want a NodeError matching %v", err, kind)
			}
		}
	}
	isDeadline := func(t *testing.T, err error) {
		var ne *redline.NodeError
		if !errors.Is(err, context.DeadlineExceeded) || !errors.As(err, &ne) {
			t.Errorf("got %v, want a deadline error naming the node", err)
		}
	}
	raw := func(s string) func(c *fakeserver.Conn) { return func(c *fakeserver.Conn) { c.WriteRaw([]byte(s)) } }
	cases := []tc{
		{name: "absurd bulk length", reply: raw("$2147483647\r\n"), check: isProto(resp.ErrTooLarge)},
		{name: "absurd array length", reply: raw("*2147483647\r\n"), check: isProto(resp.ErrTooLarge)},
		{name: "absurd map length", reply: raw("%2147483647\r\n"), check: isProto(resp.ErrTooLarge)},
		{name: "negative bulk length", reply: raw("$-5\r\n"), check: isProto(resp.ErrProtocol)},
		{name: "negative array length", reply: raw("*-7\r\n"), check: isProto(resp.ErrProtocol)},
		{name: "garbage", reply: raw("hello world\r\n"), check: isProto(resp.ErrProtocol)},
		{name: "binary garbage", reply: raw("\x00\xff\xfe\r\n"), check: isProto(resp.ErrProtocol)},
		{name: "100000 nested arrays", reply: raw(strings.Repeat("*1\r\n", 100000) + ":1\r\n"), check: isProto(resp.ErrTooDeep)},
		{name: "endless line", reply: raw("+" + strings.Repeat("x", 1<<20)), check: isProto(resp.ErrTooLarge), maxHeap: 16 << 20},
		{name: "truncated then silence", reply: raw("$10\r\n01234"), check: isDeadline},
		{name: "dripped byte by byte", reply: func(c *fakeserver.Conn) {
			for _, b := range []byte("$10\r\n0123456789\r\n") {
				if c.WriteRaw([]byte{b}) != nil {
					return
				}
				time.Sleep(40 * time.Millisecond)
			}
		}, check: isDeadline},
		{name: "512MiB bulk announced, 1MiB sent", reply: raw("$536870912\r\n" + strings.Repeat("x", 1<<20)), check: isDeadline, maxHeap: 32 << 20},
	}
	for i := range cases {
		cases[i].key = "hostile:" + strconv.Itoa(i)
	}
	behaviour := map[string]func(*fakeserver.Conn){}
	for _, c := range cases {
		behaviour[c.key] = c.reply
	}
	fc := startFakeCluster(t, func(c *fakeserver.Conn, args []string) bool {
		if f := behaviour[args[len(args)-1]]; f != nil && strings.EqualFold(args[0], "GET") {
			f(c)
			return true
		}
		return false
	})
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cl, err := redline.NewClient(t.Context(), redline.Options{Addrs: []string{fc.addr}, CommandTimeout: timeout, ReplyTimeout: 500 * time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			defer cl.Close()
			if s, err := cl.Do(t.Context(), "GET", "ok").Text(); err != nil || s != "fine" {
				t.Fatalf("before: %q %v", s, err)
			}
			var ms runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&ms)
			allocBefore := ms.TotalAlloc
			var stats testkit.CallStats
			start := time.Now()
			err = stats.Timed(timeout, func(ctx context.Context) error { return cl.Do(ctx, "GET", tc.key).Err() })
			took := time.Since(start)
			runtime.ReadMemStats(&ms)
			allocated := ms.TotalAlloc - allocBefore
			stats.Check(t)
			if err == nil {
				t.Fatal("the hostile reply was accepted")
			}
			tc.check(t, err)
			var ne *redline.NodeError
			if errors.As(err, &ne) && ne.Addr != fc.addr {
				t.Errorf("error names %s, want %s", ne.Addr, fc.addr)
			}
			limit := tc.maxHeap
			if limit == 0 {
				limit = 8 << 20
			}
			if allocated > limit {
				t.Errorf("the call allocated %d bytes, want at most %d", allocated, limit)
			}
			// The client serves correct replies again by itself (the bad connection is
			// dropped: never a stale reply for a later call).
			recoverStart := time.Now()
			for {
				s, err := cl.Do(t.Context(), "GET", "ok").Text()
				if err == nil {
					if s != "fine" {
						t.Fatalf("after: got %q, a stale reply", s)
					}
					break
				}
				if time.Since(recoverStart) > 5*time.Second {
					t.Fatalf("the client did not recover within 5s: %v", err)
				}
				time.Sleep(10 * time.Millisecond)
			}
			testkit.Figure(t, "%s: %q after %v (the call allocated %d KiB); correct replies again after %v", tc.name, err.Error(), took.Round(10*time.Microsecond), allocated>>10, time.Since(recoverStart).Round(time.Millisecond))
		})
	}

	t.Run("one reply too many", func(t *testing.T) {
		// The extra reply comes 50ms after the real one.
		fc := startFakeCluster(t, func(c *fakeserver.Conn, args []string) bool {
			if strings.EqualFold(args[0], "GET") && strings.HasPrefix(args[1], "twice") {
				c.Reply(fakeserver.Bulk("first"))
				go func() {
					time.Sleep(50 * time.Millisecond)
					c.Reply(fakeserver.Bulk("extra"))
				}()
				return true
			}
			return false
		})
		cl, err := redline.NewClient(t.Context(), redline.Options{Addrs: []string{fc.addr}, CommandTimeout: timeout})
		if err != nil {
			t.Fatal(err)
		}
		defer cl.Close()
		// Nothing in flight when it arrives: detected, the connection dropped, and the
		// next calls answered correctly on a new one.
		if s, err := cl.Do(t.Context(), "GET", "twice").Text(); err != nil || s != "first" {
			t.Fatalf("GET twice: %q %v", s, err)
		}
		time.Sleep(150 * time.Millisecond)
		for i := range 20 {
			if s, err := cl.Do(t.Context(), "GET", "ok").Text(); err != nil || s != "fine" {
				t.Fatalf("call %d after the extra reply: %q %v", i, s, err)
			}
		}
		if fc.srv.Accepted() < 2 {
			t.Errorf("the desynchronized connection was kept (%d connections accepted)", fc.srv.Accepted())
		}
		// A call already in flight when the extra reply arrives cannot tell it from its
		// own (RESP has no request IDs): measured, not asserted (see docs/RELIABILITY.md).
		var wrong, trials int
		for i := range 10 {
			if err := cl.Do(t.Context(), "GET", "twice"+strconv.Itoa(i)).Err(); err != nil {
				continue
			}
			trials++
			start := time.Now()
			for time.Since(start) < 100*time.Millisecond {
				s, err := cl.Do(t.Context(), "GET", "ok").Text()
				if err == nil && s != "fine" {
					wrong++
				}
			}
		}
		testkit.Figure(t, "one reply too many: with no call in flight it is detected and the connection dropped (20 later calls correct); with calls in flight, %d of %d extra replies were handed to a later call", wrong, trials)
	})

	t.Run("a reply missing, then the next ones", func(t *testing.T) {
		// The server skips the reply to one command and answers the following ones: the
		// caller of the skipped one leaves at its deadline, and every later reply is one
		// behind. Callers one after the other must never get a reply meant for another.
		for _, rt := range []time.Duration{200 * time.Millisecond, 500 * time.Millisecond} {
			var mu sync.Mutex
			skipped := false
			fc := startFakeCluster(t, func(c *fakeserver.Conn, args []string) bool {
				if strings.EqualFold(args[0], "ECHO") {
					mu.Lock()
					skip := args[1] == "skip" && !skipped
					skipped = skipped || skip
					mu.Unlock()
					if !skip {
						c.Reply(fakeserver.Bulk(args[1]))
					}
					return true
				}
				return false
			})
			cl, err := redline.NewClient(t.Context(), redline.Options{Addrs: []string{fc.addr}, CommandTimeout: timeout, ReplyTimeout: rt})
			if err != nil {
				t.Fatal(err)
			}
			defer cl.Close()
			if err := cl.Do(t.Context(), "ECHO", "skip").Err(); err == nil {
				t.Fatalf("the skipped reply: no error")
			}
			var wrong, failed int
			for i := range 10 {
				want := "m" + strconv.Itoa(i)
				s, err := cl.Do(t.Context(), "ECHO", want).Text()
				switch {
				case err != nil:
					failed++
				case s != want:
					wrong++
					t.Errorf("ReplyTimeout %v: ECHO %s got %q", rt, want, s)
				}
			}
			if rt >= timeout {
				// With CommandTimeout <= ReplyTimeout no reply is overdue before the callers
				// leave; the sync marker written after the abandoned call finds the shift
				// and the connection is dropped (docs/RELIABILITY.md). The pause is kept
				// from before, when only an idle ReplyTimeout ended the shift.
				time.Sleep(rt + 200*time.Millisecond)
			}
			// Either way the client then answers correctly by itself (with a health limit
			// shorter than the deadline, the connection is found dead at once and the node
			// retried after its backoff).
			recoverStart := time.Now()
			for {
				s, err := cl.Do(t.Context(), "ECHO", "last").Text()
				if err == nil {
					if s != "last" {
						t.Fatalf("ReplyTimeout %v: after: %q", rt, s)
					}
					break
				}
				if time.Since(recoverStart) > 3*time.Second {
					t.Fatalf("ReplyTimeout %v: no correct reply within 3s: %v", rt, err)
				}
				time.Sleep(10 * time.Millisecond)
			}
			testkit.Figure(t, "a skipped reply, CommandTimeout %v, ReplyTimeout %v: of 10 later calls back to back, %d failed and %d got a wrong reply", timeout, rt, failed, wrong)
		}
	})

	t.Run("pushes before replies", func(t *testing.T) {
		fc := startFakeCluster(t, func(c *fakeserver.Conn, args []string) bool {
			if strings.EqualFold(args[0], "GET") && args[1] == "pushy" {
				push := resp.Value{Type: resp.TypePush, Elems: []resp.Value{fakeserver.Bulk("message"), fakeserver.Bulk("ch"), fakeserver.Bulk("unsolicited")}}
				if c.Proto == 3 {
					c.Reply(push)
				} else {
					c.WriteRaw([]byte("*3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$11\r\nunsolicited\r\n"))
				}
				c.Reply(fakeserver.Bulk("mine"))
				return true
			}
			return false
		})
		// RESP3: the push is routed away, the caller gets its own reply.
		cl, err := redline.NewClient(t.Context(), redline.Options{Addrs: []string{fc.addr}, CommandTimeout: timeout})
		if err != nil {
			t.Fatal(err)
		}
		defer cl.Close()
		for range 5 {
			if s, err := cl.Do(t.Context(), "GET", "pushy").Text(); err != nil || s != "mine" {
				t.Fatalf("RESP3: %q %v", s, err)
			}
		}
		// RESP2: an out-of-band array on a connection that subscribed to nothing cannot be
		// told from a reply (known limit: the caller takes it, and the real reply goes to
		// the next call in flight or, with none, is found unsolicited and the connection
		// dropped). Measured; asserted: the client then answers correctly by itself.
		cl2, err := redline.NewClient(t.Context(), redline.Options{Addrs: []string{fc.addr}, CommandTimeout: timeout, Protocol: 2})
		if err != nil {
			t.Fatal(err)
		}
		defer cl2.Close()
		v, err := cl2.Do(t.Context(), "GET", "pushy").Value()
		var later []string
		for range 5 {
			s, err := cl2.Do(t.Context(), "GET", "ok").Text()
			later = append(later, s+errText(err))
		}
		for start := time.Now(); ; time.Sleep(10 * time.Millisecond) {
			s, err := cl2.Do(t.Context(), "GET", "ok").Text()
			if err == nil && s == "fine" {
				break
			}
			if time.Since(start) > 3*time.Second {
				t.Fatalf("RESP2: no correct reply within 3s after the out-of-band array: %q %v", s, err)
			}
		}
		testkit.Figure(t, "RESP2 out-of-band array before a reply (known limit): the caller got %v / %v; the next calls got %v", v, err, later)
	})

	t.Run("handshake never ends", func(t *testing.T) {
		s := fakeserver.New(func(c *fakeserver.Conn, args []string) bool {
			if strings.EqualFold(args[0], "HELLO") {
				go func() { // a slow-loris answer: one byte, then nothing
					c.WriteRaw([]byte("%"))
				}()
				return true
			}
			return false
		})
		addr, err := s.Listen()
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		hctx, cancel := context.WithTimeout(t.Context(), timeout)
		defer cancel()
		start := time.Now()
		_, err = redline.NewClient(hctx, redline.Options{Addrs: []string{addr}, CommandTimeout: timeout})
		el := time.Since(start)
		if err == nil || !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("NewClient against a server that never finishes HELLO: %v", err)
		}
		if el > timeout+testkit.DeadlineSlack {
			t.Errorf("NewClient returned after %v, its context ended at %v", el, timeout)
		}
		if !strings.Contains(err.Error(), addr) || !strings.Contains(err.Error(), "handshake") {
			t.Errorf("the error does not name the node and the phase: %v", err)
		}
		testkit.Figure(t, "a server that never finishes HELLO: NewClient returned after %v with %q", el.Round(100*time.Microsecond), err.Error())
	})

	t.Run("absurd length in the topology reply", func(t *testing.T) {
		s := fakeserver.New(func(c *fakeserver.Conn, args []string) bool {
			if strings.EqualFold(args[0], "CLUSTER") {
				c.WriteRaw([]byte("*2147483647\r\n"))
				return true
			}
			return false
		})
		addr, err := s.Listen()
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		start := time.Now()
		_, err = redline.NewClient(t.Context(), redline.Options{Addrs: []string{addr}, CommandTimeout: timeout})
		if !errors.Is(err, resp.ErrTooLarge) || time.Since(start) > time.Second {
			t.Fatalf("got %v after %v, want ErrTooLarge at once", err, time.Since(start))
		}
	})
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return "error: " + err.Error()
}
