package rerr

import (
	"crypto/x509"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/redline-go/redline/resp"
)

// A TLS failure names its phase once: crypto/tls's own "tls: " prefix is not repeated.
func TestTLSPhaseNotRepeated(t *testing.T) {
	cause := fmt.Errorf("tls: failed to verify certificate: %w", x509.UnknownAuthorityError{})
	ne := &NodeError{Addr: "127.0.0.1:1", Phase: PhaseTLS, Err: cause}
	for _, s := range []string{ne.Error(), (&DeadlineError{Cause: errors.New("deadline exceeded"), Node: ne}).Error()} {
		if strings.Contains(s, "tls: tls:") {
			t.Errorf("doubled prefix: %s", s)
		}
		if !strings.Contains(s, "127.0.0.1:1 tls: failed to verify certificate: x509:") {
			t.Errorf("message lost its parts: %s", s)
		}
	}
	var ua x509.UnknownAuthorityError
	if !errors.As(ne, &ua) {
		t.Error("the x509 cause is no longer reachable with errors.As")
	}
	// Other phases keep the cause's text as it is.
	ne = &NodeError{Addr: "a:1", Phase: PhaseRead, Err: errors.New("tls: bad record MAC")}
	if !strings.Contains(ne.Error(), "read: tls: bad record MAC") {
		t.Errorf("read phase: %s", ne.Error())
	}
}

// TestNodeErrorOwnReplyOnce: a NodeError whose cause is the node's own error reply
// names the node once, not again in the reply's "(from …)".
func TestNodeErrorOwnReplyOnce(t *testing.T) {
	re := resp.ParseError("NOPERM this user has no permissions to run the 'cluster|shards' command")
	re.From = "127.0.0.1:7001"
	e := &NodeError{Addr: "127.0.0.1:7001", Phase: PhaseRead, Err: re}
	if got, want := e.Error(), "redline: 127.0.0.1:7001 read: NOPERM this user has no permissions to run the 'cluster|shards' command"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	e.Addr = "127.0.0.1:7002" // another node's reply keeps its origin
	if got := e.Error(); !strings.HasSuffix(got, "(from 127.0.0.1:7001)") {
		t.Errorf("got %q, want the reply's origin", got)
	}
}
