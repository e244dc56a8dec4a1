package topology

import (
	"errors"
	"fmt"
	"strconv"

	"github.com/redline-go/redline/resp"
)

// ErrInvalid is matched (with errors.Is) by every error that reports a reply which is not a
// valid topology: wrong shape or types, ports or slots out of range, overlapping slot
// ranges, a shard serving slots without a usable primary. The message says what is wrong
// and where, for example "topology: shard 2, primary: node 127.0.0.1:99999: port out of
// range".
var ErrInvalid = errors.New("topology: invalid reply")

// ErrNoShards is returned (possibly wrapped, with the reason) for a well-formed reply that
// leaves no shard: the empty CLUSTER SLOTS reply of a cluster where no slot is assigned
// yet, or a CLUSTER SHARDS reply whose every shard was left out (see [Table.Skipped]). It
// does not match ErrInvalid.
var ErrNoShards = errors.New("topology: no shards")

// invalidError is an error matching ErrInvalid.
type invalidError struct{ msg string }

func (e *invalidError) Error() string        { return "topology: " + e.msg }
func (e *invalidError) Is(target error) bool { return target == ErrInvalid }

func invalid(format string, args ...any) error {
	return &invalidError{msg: fmt.Sprintf(format, args...)}
}

// within prefixes the message of err, an invalidError, with where it happened.
func within(where string, err error) error {
	var ie *invalidError
	if errors.As(err, &ie) {
		return &invalidError{msg: where + ": " + ie.msg}
	}
	return err
}

func nodeErr(n *rawNode, msg string) error {
	return &invalidError{msg: "node " + n.label() + ": " + msg}
}

// serverError turns an error reply into an error that wraps its *resp.Error, so that
// errors.As finds it (for example to fall back from CLUSTER SHARDS to CLUSTER SLOTS on
// "ERR unknown subcommand").
func serverError(v *resp.Value) error {
	e := v.Err
	if e == nil {
		e = resp.ParseError(string(v.Str))
	}
	return fmt.Errorf("topology: server replied with an error: %w", e)
}

func itoa(i int) string { return strconv.Itoa(i) }
