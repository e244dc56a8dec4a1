package redline

import (
	"context"
	"crypto/x509"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/redline-go/redline/hashslot"
	"github.com/redline-go/redline/internal/rerr"
)

func TestDeadlineErrorKeepsCause(t *testing.T) {
	cause := &NodeError{Addr: "10.1.2.3:6380", Phase: PhaseTLS, Err: x509.UnknownAuthorityError{}, Down: true, Since: time.Now()}
	ctx, cancel := context.WithTimeout(context.Background(), 0)
	defer cancel()
	<-ctx.Done()
	err := error(rerr.Deadline(ctx, 100*time.Millisecond, cause))
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Error("not DeadlineExceeded")
	}
	var ne *NodeError
	if !errors.As(err, &ne) || ne.Addr != "10.1.2.3:6380" || ne.Phase != PhaseTLS {
		t.Errorf("NodeError not reachable: %v", ne)
	}
	var ua x509.UnknownAuthorityError
	if !errors.As(err, &ua) {
		t.Error("x509 cause not reachable")
	}
	msg := err.Error()
	for _, want := range []string{"deadline exceeded after 100ms", "10.1.2.3:6380 tls", "x509: certificate signed by unknown authority", "node down"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message %q lacks %q", msg, want)
		}
	}
	if !SafeToRetry(err) || MayHaveExecuted(err) {
		t.Error("a call that never reached the node must be safe to retry")
	}
	written := &NodeError{Addr: "a:1", Phase: PhaseRead, Err: rerr.ErrNoReply, Written: true}
	if SafeToRetry(written) || !MayHaveExecuted(written) {
		t.Error("a written command is not safe to retry")
	}
	if SafeToRetry(errors.New("other")) {
		t.Error("an unknown error is not safe to retry")
	}
}

// TestTxFailedAlias: the deprecated TxFailed is ErrTxFailed, so code testing for
// either keeps working.
func TestTxFailedAlias(t *testing.T) {
	if TxFailed != ErrTxFailed || !errors.Is(ErrTxFailed, TxFailed) {
		t.Fatal("TxFailed is not ErrTxFailed")
	}
}

// TestRedisErrorNamesNode: a server's error reply says which node sent it (From, and
// in its text), also inside a transaction's results; Msg stays the message as sent.
func TestRedisErrorNamesNode(t *testing.T) {
	t.Parallel()
	cl := plain(t)
	c := newTestClient(t, cl, Options{})
	ctx := t.Context()
	const k = "{rerrnode}k"
	if err := c.Do(ctx, "SET", k, "v").Err(); err != nil {
		t.Fatal(err)
	}
	owner, err := c.e.Pick(hashslot.Key(k), false)
	if err != nil {
		t.Fatal(err)
	}
	check := func(what string, err error) {
		t.Helper()
		var re *RedisError
		if !errors.As(err, &re) || re.Code != "WRONGTYPE" {
			t.Fatalf("%s: got %v, want WRONGTYPE", what, err)
		}
		if re.From != owner.Addr() || !strings.HasSuffix(err.Error(), "(from "+owner.Addr()+")") ||
			!strings.HasPrefix(re.Msg, "WRONGTYPE ") || strings.Contains(re.Msg, owner.Addr()) {
			t.Fatalf("%s: %q (From %q, Msg %q), want it from %s", what, err, re.From, re.Msg, owner.Addr())
		}
	}
	check("Do", c.Do(ctx, "LPUSH", k, "x").Err())
	err = c.Watch(ctx, func(tx *Tx) error {
		rs, err := tx.Exec(ctx, Cmd("GET", k), Cmd("LPUSH", k, "x"))
		if err != nil {
			return err
		}
		check("Exec result", rs[1].Err())
		return nil
	}, k)
	if err != nil {
		t.Fatal(err)
	}
}
