package resp

import (
	"bytes"
	"fmt"
	"reflect"
	"strconv"
	"strings"
)

// Command arguments. This file is the one place that says which Go types a command
// argument may have and how each is sent: AppendCommand and CheckArgs (the encoder),
// AppendArg (the text a key hashes on) and CloneArgs (a copy for other goroutines) all
// follow the three switches below, and a test holds them to agreeing on every type.
//
// The supported types: string, []byte, int, int8..int64, uint, uint8..uint64, float32
// and float64 (formatted with strconv 'f', -1: 1.5, -0.25, +Inf), bool ("1" or "0").
// Named types (type MyInt int) are not supported: an argument's dynamic type must be one
// of these exactly.

// ArgTypeError reports a command argument of a type the codec does not encode. It is
// the one error for this: AppendCommand, CheckArgs and CloneArgs all return it.
type ArgTypeError struct {
	// Index is the argument's position in the command (0 is the command's name).
	Index int
	// Type is the argument's dynamic type; nil for a nil argument.
	Type reflect.Type
}

// Error implements error: "resp: argument 1 has unsupported type time.Duration".
func (e *ArgTypeError) Error() string {
	name := "nil"
	if e.Type != nil {
		name = e.Type.String()
	}
	return fmt.Sprintf("resp: argument %d has unsupported type %s", e.Index, name)
}

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
		float32, float64, bool:
		return true
	}
	return false
}

// AppendArg appends the text of argument a as Redis receives it — exactly the bytes
// AppendCommand sends inside a's bulk string: a string's or []byte's own bytes, a
// number's decimal form, "1" or "0" for a bool — and returns the extended buffer (the
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
	}
	return dst
}

// appendBulkArg appends a non-string argument as a bulk string.
func appendBulkArg(dst []byte, a any) []byte {
	var tmp [32]byte
	return AppendBulk(dst, AppendArg(tmp[:0], a))
}

// CloneArgs returns a deep copy of args for work that outlives the caller's frame (other
// goroutines, errors): strings and byte slices are copied, numbers and bools re-boxed,
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
	}
	return nil // not reached: CloneArgs checks first
}
