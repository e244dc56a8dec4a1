package resp

import (
	"bytes"
	"encoding"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"
)

// Command arguments. This file is the one place that says which Go types a command
// argument may have and how each is sent: AppendCommand and CheckArgs (the encoder),
// AppendArg (the text a key hashes on) and CloneArgs (a copy for other goroutines) all
// follow the three switches below, and a test holds them to agreeing on every type.
// FlattenArgs and ExpandArgs, the step before them, turn the types that need a
// conversion into these.
//
// The supported types: string, []byte, int, int8..int64, uint, uint8..uint64, float32
// and float64 (formatted with strconv 'f', -1: 1.5, -0.25, +Inf), bool ("1" or "0"),
// and, as go-redis sends them (so data written by either client reads alike):
//
//   - time.Duration: its integer number of NANOSECONDS ("1000000000" for time.Second).
//     Redis has no unit of its own for a duration: EXPIRE counts seconds, PEXPIRE and
//     XREAD BLOCK milliseconds, BLPOP seconds with a fraction. No one unit is right in
//     every position, so none is guessed: for a TTL or a timeout, call the typed method
//     (Expire, SetEx, BLPop…), which sends the unit of its position, or send
//     d.Milliseconds() or int64(d.Seconds()) yourself. Do(ctx, "EXPIRE", k, time.Minute)
//     sets an expiry of 60,000,000,000 seconds.
//   - time.Time: its text in time.RFC3339Nano ("2026-12-06T15:04:05.123456789Z"), in
//     the time's own location; a command that expects Unix seconds (EXPIREAT) refuses it
//     ("not an integer") rather than misreading it. Send t.Unix() or t.UnixMilli() there,
//     or call the typed method (ExpireAt, PExpireAt).
//
// Named types (type MyInt int) are not supported: an argument's dynamic type must be one
// of these exactly. FlattenArgs also accepts []string and []any (flattened: their
// elements become arguments of their own); ExpandArgs these and encoding.BinaryMarshaler
// (sent as the bytes MarshalBinary returns), for calls whose arguments escape anyway.

// ArgTypeError reports a command argument of a type the codec does not encode. It is
// the one error for this: AppendCommand, CheckArgs and CloneArgs all return it.
type ArgTypeError struct {
	// Index is the argument's position in the command (0 is the command's name), as
	// the caller wrote it (before a slice argument was flattened).
	Index int
	// InSlice is set when the argument is an element of a []any argument: the one at
	// index Element of the []any at Index.
	InSlice bool
	Element int
	// Type is the argument's dynamic type; nil for a nil argument.
	Type reflect.Type
}

// Error implements error: "resp: argument 1 has unsupported type time.Month".
func (e *ArgTypeError) Error() string {
	name := "nil"
	if e.Type != nil {
		name = e.Type.String()
	}
	where := strconv.Itoa(e.Index)
	if e.InSlice {
		where += ", element " + strconv.Itoa(e.Element) + ","
	}
	msg := "resp: argument " + where + " has unsupported type " + name
	if e.Type != nil && e.Type.Implements(binaryMarshaler) {
		msg += " (an encoding.BinaryMarshaler, which this call does not marshal: send the bytes of its MarshalBinary)"
	}
	return msg
}

// binaryMarshaler is the type of encoding.BinaryMarshaler.
var binaryMarshaler = reflect.TypeFor[encoding.BinaryMarshaler]()

// argTypeError builds the error for argument i. reflect.TypeOf reads only the type word
// of the interface, so the arguments of AppendCommand do not escape to the heap.
func argTypeError(i int, a any) error {
	return &ArgTypeError{Index: i, Type: reflect.TypeOf(a)}
}

// CheckArgs returns the error AppendCommand would return for args (an *ArgTypeError for
// the first argument of an unsupported type), or nil: a command can be checked before it
// joins a pipeline.
func CheckArgs(args []any) error {
	for i, a := range args {
		if !supportedArg(a) {
			return argTypeError(i, a)
		}
	}
	return nil
}

// supportedArg reports whether a has one of the supported types (the first switch).
func supportedArg(a any) bool {
	switch a.(type) {
	case string, []byte, int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64,
		float32, float64, bool, time.Duration, time.Time:
		return true
	}
	return false
}

// AppendArg appends the text of argument a as Redis receives it — exactly the bytes
// AppendCommand sends inside a's bulk string: a string's or []byte's own bytes, a
// number's decimal form (a time.Duration's in nanoseconds), "1" or "0" for a bool, a
// time.Time in time.RFC3339Nano — and returns the extended buffer (the
// key a cluster hashes, for a key argument). For a type AppendCommand refuses it returns
// dst unchanged (see CheckArgs). It does not allocate when dst has enough capacity.
func AppendArg(dst []byte, a any) []byte {
	switch v := a.(type) {
	case string:
		return append(dst, v...)
	case []byte:
		return append(dst, v...)
	case int:
		return strconv.AppendInt(dst, int64(v), 10)
	case int8:
		return strconv.AppendInt(dst, int64(v), 10)
	case int16:
		return strconv.AppendInt(dst, int64(v), 10)
	case int32:
		return strconv.AppendInt(dst, int64(v), 10)
	case int64:
		return strconv.AppendInt(dst, v, 10)
	case uint:
		return strconv.AppendUint(dst, uint64(v), 10)
	case uint8:
		return strconv.AppendUint(dst, uint64(v), 10)
	case uint16:
		return strconv.AppendUint(dst, uint64(v), 10)
	case uint32:
		return strconv.AppendUint(dst, uint64(v), 10)
	case uint64:
		return strconv.AppendUint(dst, v, 10)
	case float32:
		return strconv.AppendFloat(dst, float64(v), 'f', -1, 32)
	case float64:
		return strconv.AppendFloat(dst, v, 'f', -1, 64)
	case bool:
		if v {
			return append(dst, '1')
		}
		return append(dst, '0')
	case time.Duration:
		return strconv.AppendInt(dst, int64(v), 10)
	case time.Time:
		return v.AppendFormat(dst, time.RFC3339Nano)
	}
	return dst
}

// MaxArgText is the longest text AppendArg appends for an argument that is not a
// string or []byte (a time.Time of the years 0 to 9999 in RFC3339Nano with a zone
// offset: 35 bytes): a buffer of this size holds any of them without allocating.
const MaxArgText = 64

// appendBulkArg appends a non-string argument as a bulk string.
func appendBulkArg(dst []byte, a any) []byte {
	var tmp [MaxArgText]byte
	return AppendBulk(dst, AppendArg(tmp[:0], a))
}

// CloneArgs returns a deep copy of args for work that outlives the caller's frame (other
// goroutines, errors): strings and byte slices are copied, numbers, bools and durations
// re-boxed, a time.Time replaced by its text (the same bytes are sent),
// so nothing refers to the caller's memory and the caller's arguments never escape to
// the heap on the common path (the compiler sees no path that keeps them). An argument
// of an unsupported type is an *ArgTypeError, as AppendCommand would return.
func CloneArgs(args []any) ([]any, error) {
	if err := CheckArgs(args); err != nil {
		return nil, err
	}
	out := make([]any, len(args))
	for i, a := range args {
		out[i] = cloneArg(a)
	}
	return out, nil
}

// cloneArg copies one argument of a supported type (the third switch).
func cloneArg(a any) any {
	switch v := a.(type) {
	case string:
		return strings.Clone(v)
	case []byte:
		return bytes.Clone(v)
	case int:
		return v
	case int8:
		return v
	case int16:
		return v
	case int32:
		return v
	case int64:
		return v
	case uint:
		return v
	case uint8:
		return v
	case uint16:
		return v
	case uint32:
		return v
	case uint64:
		return v
	case float32:
		return v
	case float64:
		return v
	case bool:
		return v
	case time.Duration:
		return v
	case time.Time:
		// Its text, which is what is sent: a Time holds a pointer to its Location, and
		// keeping it would let the caller's arguments escape (see CloneArgs).
		return v.Format(time.RFC3339Nano)
	}
	return nil // not reached: CloneArgs checks first
}

// ArgMarshalError reports a command argument whose MarshalBinary method failed
// (ExpandArgs): nothing was sent.
type ArgMarshalError struct {
	// Index is the argument's position in the command as the caller wrote it (0 is the
	// command's name); Element its position in the []any it is an element of, or -1.
	Index, Element int
	// Type is the argument's dynamic type.
	Type reflect.Type
	// Err is what MarshalBinary returned.
	Err error
}

// Error implements error: "resp: argument 2 (*app.User): MarshalBinary: …".
func (e *ArgMarshalError) Error() string {
	if e.Element >= 0 {
		return fmt.Sprintf("resp: argument %d, element %d (%s): MarshalBinary: %v", e.Index, e.Element, e.Type, e.Err)
	}
	return fmt.Sprintf("resp: argument %d (%s): MarshalBinary: %v", e.Index, e.Type, e.Err)
}

// Unwrap returns the error of MarshalBinary.
func (e *ArgMarshalError) Unwrap() error { return e.Err }

// FlattenArgs returns args with every []string or []any argument flattened: each
// element becomes an argument of its own, in order, where the slice was (an empty slice
// adds none). Key positions, slot routing and the command table then see the flattened
// command: DEL with a []string of keys is DEL k1 k2 … and is split by slot as such.
// An element of a []any must be of a supported type (see CheckArgs): a slice in a slice
// or an encoding.BinaryMarshaler there is an *ArgTypeError, as is an argument of an
// unsupported type anywhere in a command that has a slice to flatten.
//
// When no argument is a slice — every call made of strings, []byte, numbers, bools,
// durations and times — FlattenArgs returns args itself, without allocating. Otherwise
// it returns a deep copy (as CloneArgs copies): it keeps no reference to the caller's
// memory, so that the caller's arguments never escape to the heap on the common path.
// It never calls a method of an argument (see ExpandArgs).
func FlattenArgs(args []any) ([]any, error) {
	first := -1
	for i := 0; i < len(args) && first < 0; i++ {
		switch args[i].(type) {
		case []string, []any:
			first = i
		}
	}
	if first < 0 {
		return args, nil
	}
	n := len(args)
	for _, a := range args[first:] {
		switch v := a.(type) {
		case []string:
			n += len(v) - 1
		case []any:
			n += len(v) - 1
		}
	}
	out := make([]any, 0, n)
	for i, a := range args {
		switch v := a.(type) {
		case []string:
			for _, s := range v {
				out = append(out, strings.Clone(s))
			}
		case []any:
			for j, e := range v {
				if !supportedArg(e) {
					return nil, &ArgTypeError{Index: i, InSlice: true, Element: j, Type: reflect.TypeOf(e)}
				}
				out = append(out, cloneArg(e))
			}
		default:
			if !supportedArg(a) {
				return nil, argTypeError(i, a)
			}
			out = append(out, cloneArg(a))
		}
	}
	return out, nil
}

// ExpandArgs is FlattenArgs that also accepts encoding.BinaryMarshaler arguments (at the
// top level or as elements of a []any): each is replaced by a copy of the bytes its
// MarshalBinary returns, called once, here, in the caller's goroutine; an error of
// MarshalBinary (or a nil pointer, whose method is not called) is an *ArgMarshalError.
// time.Time, which is one, is not marshaled: it is sent as its RFC3339Nano text.
//
// Calling a method of an argument makes the Go compiler keep every argument of the
// caller on the heap (it cannot see what the method keeps), at one allocation per
// argument per call: ExpandArgs is for calls whose arguments escape anyway (pipelines,
// transactions); a call that must not allocate uses FlattenArgs.
func ExpandArgs(args []any) ([]any, error) {
	var own []any // args with the marshalers replaced, made at the first one
	for i, a := range args {
		var repl any
		switch v := a.(type) {
		case []any:
			var elems []any
			for j, e := range v {
				b, ok, err := marshalArg(e)
				if err != nil {
					return nil, &ArgMarshalError{Index: i, Element: j, Type: reflect.TypeOf(e), Err: err}
				}
				if ok {
					if elems == nil {
						elems = append([]any(nil), v...)
					}
					elems[j] = b
				}
			}
			if elems == nil {
				continue
			}
			repl = elems
		default:
			b, ok, err := marshalArg(a)
			if err != nil {
				return nil, &ArgMarshalError{Index: i, Element: -1, Type: reflect.TypeOf(a), Err: err}
			}
			if !ok {
				continue
			}
			repl = b
		}
		if own == nil {
			own = append([]any(nil), args...)
		}
		own[i] = repl
	}
	if own != nil {
		args = own
	}
	return FlattenArgs(args)
}

// errNilMarshaler is the cause for a nil pointer whose type is an
// encoding.BinaryMarshaler: its method is not called (it would most likely panic).
var errNilMarshaler = errors.New("a nil pointer (its MarshalBinary is not called)")

// marshalArg returns a copy of a's MarshalBinary bytes and true for an
// encoding.BinaryMarshaler other than a supported type (time.Time); false for any other
// argument.
func marshalArg(a any) ([]byte, bool, error) {
	if supportedArg(a) {
		return nil, false, nil
	}
	m, ok := a.(encoding.BinaryMarshaler)
	if !ok {
		return nil, false, nil
	}
	if rv := reflect.ValueOf(a); rv.Kind() == reflect.Pointer && rv.IsNil() {
		return nil, false, errNilMarshaler
	}
	b, err := m.MarshalBinary()
	if err != nil {
		return nil, false, err
	}
	return bytes.Clone(b), true, nil // not the marshaler's memory: it may reuse it
}
