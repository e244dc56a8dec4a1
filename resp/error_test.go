package resp

import (
	"errors"
	"testing"
)

func TestParseError(t *testing.T) {
	cases := []struct {
		msg       string
		code      string
		slot      int
		addr      string
		moved     bool
		ask       bool
		retryable bool
	}{
		{"ERR unknown command 'foo'", "ERR", -1, "", false, false, false},
		{"ERR", "ERR", -1, "", false, false, false},
		{"WRONGTYPE Operation against a key holding the wrong kind of value", "WRONGTYPE", -1, "", false, false, false},
		{"NOSCRIPT No matching script.", "NOSCRIPT", -1, "", false, false, false},
		{"CROSSSLOT Keys in request don't hash to the same slot", "CROSSSLOT", -1, "", false, false, false},
		{"NOAUTH Authentication required.", "NOAUTH", -1, "", false, false, false},
		{"WRONGPASS invalid username-password pair", "WRONGPASS", -1, "", false, false, false},
		{"NOPERM this user has no permissions", "NOPERM", -1, "", false, false, false},
		{"BUSY Redis is busy running a script.", "BUSY", -1, "", false, false, false},
		{"READONLY You can't write against a read only replica.", "READONLY", -1, "", false, false, false},
		{"EXECABORT Transaction discarded because of previous errors.", "EXECABORT", -1, "", false, false, false},
		{"BUSYGROUP Consumer Group name already exists", "BUSYGROUP", -1, "", false, false, false},
		{"TRYAGAIN Multiple keys request during rehashing of slot", "TRYAGAIN", -1, "", false, false, true},
		{"CLUSTERDOWN The cluster is down", "CLUSTERDOWN", -1, "", false, false, true},
		{"LOADING Redis is loading the dataset in memory", "LOADING", -1, "", false, false, true},
		{"MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.", "MASTERDOWN", -1, "", false, false, true},
		{"MOVED 3999 127.0.0.1:6381", "MOVED", 3999, "127.0.0.1:6381", true, false, false},
		{"ASK 3999 127.0.0.1:6381", "ASK", 3999, "127.0.0.1:6381", false, true, false},
		{"MOVED 0 redis-1.example.com:7000", "MOVED", 0, "redis-1.example.com:7000", true, false, false},
		{"MOVED 16383 10.0.0.1:1", "MOVED", 16383, "10.0.0.1:1", true, false, false},
		{"MOVED 3999 :6381", "MOVED", 3999, ":6381", true, false, false},
		{"MOVED 1 [::1]:7000", "MOVED", 1, "[::1]:7000", true, false, false},
		{"MOVED 1 ::1:7000", "MOVED", 1, "::1:7000", true, false, false},
		{"ASK 12 fe80::1:65535", "ASK", 12, "fe80::1:65535", false, true, false},
		// malformed redirections
		{"MOVED 16384 127.0.0.1:6381", "MOVED", -1, "", false, false, false},
		{"MOVED -1 127.0.0.1:6381", "MOVED", -1, "", false, false, false},
		{"MOVED 99999999999999999999 127.0.0.1:6381", "MOVED", -1, "", false, false, false},
		{"MOVED abc 127.0.0.1:6381", "MOVED", -1, "", false, false, false},
		{"MOVED 3999", "MOVED", -1, "", false, false, false},
		{"MOVED 3999 ", "MOVED", -1, "", false, false, false},
		{"MOVED", "MOVED", -1, "", false, false, false},
		{"MOVED ", "MOVED", -1, "", false, false, false},
		{"MOVED  3999 127.0.0.1:6381", "MOVED", -1, "", false, false, false},
		{"MOVED 3999 127.0.0.1", "MOVED", -1, "", false, false, false},
		{"MOVED 3999 127.0.0.1:", "MOVED", -1, "", false, false, false},
		{"MOVED 3999 127.0.0.1:0", "MOVED", -1, "", false, false, false},
		{"MOVED 3999 127.0.0.1:65536", "MOVED", -1, "", false, false, false},
		{"MOVED 3999 127.0.0.1:99999", "MOVED", -1, "", false, false, false},
		{"MOVED 3999 127.0.0.1:6381 extra", "MOVED", -1, "", false, false, false},
		{"MOVED 3999 127.0.0.1:63x1", "MOVED", -1, "", false, false, false},
		{"MOVED 3999 a\tb:6381", "MOVED", -1, "", false, false, false},
		{"ASK x y", "ASK", -1, "", false, false, false},
		// no code
		{"", "", -1, "", false, false, false},
		{"Error: something", "", -1, "", false, false, false},
		{"err lower case", "", -1, "", false, false, false},
		{"123 numeric", "", -1, "", false, false, false},
		{"_X underscore first", "", -1, "", false, false, false},
		{" ERR leading space", "", -1, "", false, false, false},
		{"ERR\tx", "", -1, "", false, false, false},
		{"MOVEDX 1 a:1", "MOVEDX", -1, "", false, false, false},
		{"ERR_2 x", "ERR_2", -1, "", false, false, false},
	}
	for _, tc := range cases {
		e := ParseError(tc.msg)
		if e.Msg != tc.msg || e.Error() != tc.msg || e.Code != tc.code || e.Slot != tc.slot || e.Addr != tc.addr ||
			e.IsMoved() != tc.moved || e.IsAsk() != tc.ask || e.IsRetryable() != tc.retryable {
			t.Errorf("ParseError(%q) = %+v moved=%v ask=%v retryable=%v", tc.msg, *e, e.IsMoved(), e.IsAsk(), e.IsRetryable())
		}
	}
}

func TestErrorNil(t *testing.T) {
	var e *Error
	if e.IsMoved() || e.IsAsk() || e.IsRetryable() {
		t.Fatal("nil *Error reports a redirection or retry")
	}
}

func TestErrorAs(t *testing.T) {
	var err error = ParseError("MOVED 1 a:1")
	var e *Error
	if !errors.As(err, &e) || e.Slot != 1 {
		t.Fatal("errors.As(*Error) failed")
	}
}

func TestProtocolError(t *testing.T) {
	e := tooLarge("x %d", 1)
	if !errors.Is(e, ErrProtocol) || !errors.Is(e, ErrTooLarge) || errors.Is(e, ErrTooDeep) || e.Error() != "resp: x 1" {
		t.Fatalf("tooLarge: %v", e)
	}
	e = tooDeep(3)
	if !errors.Is(e, ErrProtocol) || !errors.Is(e, ErrTooDeep) || errors.Is(e, ErrTooLarge) {
		t.Fatalf("tooDeep: %v", e)
	}
	e = protoErr("y")
	if !errors.Is(e, ErrProtocol) || errors.Is(e, ErrTooDeep) || errors.Is(e, ErrTooLarge) || errors.Is(e, nil) {
		t.Fatalf("protoErr: %v", e)
	}
}
