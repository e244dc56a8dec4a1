package redistest

import (
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redline-go/redline/resp"
)

// fakeSentinel serves a scripted Sentinel on a loopback listener: PING, SENTINEL
// MASTER (ip 10.0.0.1, port 1), SUBSCRIBE (then a +switch-master message and another
// one); GET-MASTER-ADDR-BY-NAME gets an error, as it must never reach it under
// StaleMaster.
func fakeSentinel(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				rd := resp.NewReader(c, resp.Limits{})
				for {
					req, err := rd.ReadValue()
					if err != nil {
						return
					}
					var out []byte
					cmd := strings.ToUpper(string(req.Elems[0].Str))
					if len(req.Elems) > 1 {
						cmd += " " + strings.ToUpper(string(req.Elems[1].Str))
					}
					switch cmd {
					case "PING":
						out = []byte("+PONG\r\n")
					case "SENTINEL MASTER":
						out = resp.AppendCommandStrings(nil, "name", "m", "ip", "10.0.0.1", "port", "1")
					case "SUBSCRIBE +SWITCH-MASTER":
						out = []byte("*3\r\n$9\r\nsubscribe\r\n$14\r\n+switch-master\r\n:1\r\n")
						out = append(out, resp.AppendCommandStrings(nil, "message", "+switch-master", "m 1 2 3 4")...)
						out = append(out, resp.AppendCommandStrings(nil, "message", "+sdown", "x")...)
					default:
						out = []byte("-ERR reached the Sentinel: " + req.String() + "\r\n")
					}
					if _, err := c.Write(out); err != nil {
						return
					}
				}
			}()
		}
	}()
	return ln.Addr().String()
}

func TestStaleMasterProxy(t *testing.T) {
	port, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	defer releasePorts(port)
	p, err := newProxy("127.0.0.1:"+strconv.Itoa(port), fakeSentinel(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if err := p.SetMode(StaleMaster("127.0.0.9:7000")); err != nil {
		t.Fatal(err)
	}
	c, err := dialRaw(p.Addr(), nil, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	// Pipelined: the replies come in request order, the answered one in its place.
	var req []byte
	req = resp.AppendCommandStrings(req, "PING")
	req = resp.AppendCommandStrings(req, "sentinel", "get-master-addr-by-name", "m")
	req = resp.AppendCommandStrings(req, "SENTINEL", "MASTER", "m")
	req = resp.AppendCommandStrings(req, "PING")
	if _, err := c.Write(req); err != nil {
		t.Fatal(err)
	}
	var got []string
	for range 4 {
		v, err := c.rd.ReadValue()
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, v.String())
	}
	want := []string{`+PONG`, `["127.0.0.9" "7000"]`, `["name" "m" "ip" "127.0.0.9" "port" "7000"]`, `+PONG`}
	if strings.Join(got, " | ") != strings.Join(want, " | ") {
		t.Fatalf("replies:\n got %v\nwant %v", got, want)
	}
	// Subscribed: messages flow, +switch-master ones are dropped.
	if _, err := c.Write(resp.AppendCommandStrings(nil, "SUBSCRIBE", "+switch-master")); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`["subscribe" "+switch-master" 1]`, `["message" "+sdown" "x"]`} {
		v, err := c.rd.ReadValue()
		if err != nil || v.String() != want {
			t.Fatalf("subscribed: %v %v, want %s", v, err, want)
		}
	}
	// Back to Pass: the connection is closed; a new one reaches the Sentinel itself.
	if err := p.SetMode(Pass); err != nil {
		t.Fatal(err)
	}
	if _, err := c.rd.ReadValue(); err == nil {
		t.Fatal("a StaleMaster connection survived the switch to Pass")
	}
	v, err := doNew(p.Addr(), "", "SENTINEL", "GET-MASTER-ADDR-BY-NAME", "m")
	if err == nil || !strings.Contains(err.Error(), "reached the Sentinel") {
		t.Fatalf("in Pass: %v %v", v, err)
	}
	for _, bad := range []string{"stale-master()", "stale-master(nohost)", "stale-master(1.2.3.4:5"} {
		if _, err := ParseMode(bad); err == nil {
			t.Errorf("ParseMode(%q) accepted", bad)
		}
	}
	if m, err := ParseMode("stale-master:127.0.0.1:6379"); err != nil || m != StaleMaster("127.0.0.1:6379") {
		t.Errorf("ParseMode(stale-master:…) = %v, %v", m, err)
	}
}
