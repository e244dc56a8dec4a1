package rerr

import (
	"crypto/x509"
	"errors"
	"fmt"
	"strings"
	"testing"
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
