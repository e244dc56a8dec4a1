package resp

import (
	"errors"
	"fmt"
)

// Sentinel errors of the Reader, to test with errors.Is. Every protocol violation matches
// ErrProtocol; a limit breach (see [Limits]) also matches ErrTooLarge or ErrTooDeep.
var (
	// ErrProtocol matches every error caused by a stream that is not valid RESP, or that
	// breaches a limit.
	ErrProtocol = errors.New("resp: protocol error")
	// ErrTooLarge matches a length prefix or line over its limit (MaxBulkLen,
	// MaxAggregateLen, MaxLineLen).
	ErrTooLarge = errors.New("resp: value too large")
	// ErrTooDeep matches aggregates nested deeper than MaxDepth.
	ErrTooDeep = errors.New("resp: nesting too deep")
)

// ProtocolError is the error a Reader returns for a malformed stream or a limit breach.
// errors.Is(err, ErrProtocol) is true for every ProtocolError, and errors.Is(err, Kind) too.
type ProtocolError struct {
	// Msg describes the violation, such as `bulk length 2147483647 exceeds limit 536870912`
	// or `invalid length "-5"`.
	Msg string
	// Kind is ErrTooLarge or ErrTooDeep for a limit breach, ErrProtocol otherwise.
	Kind error
}

// Error returns "resp: " followed by Msg.
func (e *ProtocolError) Error() string { return "resp: " + e.Msg }

// Is reports whether target is ErrProtocol or e.Kind.
func (e *ProtocolError) Is(target error) bool {
	return target == ErrProtocol || (target != nil && target == e.Kind)
}

// Unwrap returns Kind, so that errors.Is and errors.As see through a ProtocolError.
func (e *ProtocolError) Unwrap() error { return e.Kind }

func protoErr(format string, args ...any) error {
	return &ProtocolError{Msg: fmt.Sprintf(format, args...), Kind: ErrProtocol}
}

func tooLarge(format string, args ...any) error {
	return &ProtocolError{Msg: fmt.Sprintf(format, args...), Kind: ErrTooLarge}
}

func tooDeep(limit int) error {
	return &ProtocolError{Msg: fmt.Sprintf("nesting deeper than %d", limit), Kind: ErrTooDeep}
}

// quoteCut quotes b for an error message, eliding it after 32 bytes.
func quoteCut(b []byte) string {
	const n = 32
	if len(b) > n {
		return fmt.Sprintf("%q…", b[:n])
	}
	return fmt.Sprintf("%q", b)
}

// cut returns b as a string for an error message, elided after 32 bytes.
func cut(b []byte) string {
	const n = 32
	if len(b) > n {
		return string(b[:n]) + "…"
	}
	return string(b)
}
