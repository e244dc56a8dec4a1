package redline

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"

	"github.com/redline-go/redline/resp"
)

// Nil is returned by Result's typed accessors when the reply is a null (a missing key
// for GET, say): errors.Is(err, redline.Nil).
var Nil = errors.New("redline: nil reply")

// Result is the outcome of one command: a reply or an error. It is a small value,
// returned without allocation; read it with Err or a typed accessor.
type Result struct {
	val  resp.Value
	err  error
	elem bool // val is an element of a larger reply: its string may share that reply's array
}

// Err returns the call's error: a transport failure (*NodeError, *DeadlineError, …)
// or the server's error reply (*RedisError). A null reply is not an error here; the
// typed accessors report it as Nil.
func (r Result) Err() error {
	if r.err != nil {
		return r.err
	}
	if r.val.Err != nil {
		return r.val.Err
	}
	return nil
}

// Value returns the raw reply.
func (r Result) Value() (resp.Value, error) { return r.val, r.Err() }

// IsNil reports whether the reply is a null.
func (r Result) IsNil() bool { return r.err == nil && r.val.IsNull() }

// typed returns the reply for an accessor: an error, or Nil for a null.
func (r Result) typed() (resp.Value, error) {
	if err := r.Err(); err != nil {
		return r.val, err
	}
	if r.val.IsNull() {
		return r.val, Nil
	}
	return r.val, nil
}

// Text returns a string reply (simple, bulk or verbatim; numbers as their text).
func (r Result) Text() (string, error) {
	v, err := r.typed()
	if err != nil {
		return "", err
	}
	return valueText(v)
}

// Bytes returns a string reply's bytes. For an element of a larger reply (from Slice,
// or a transaction's results), a small string comes as a copy of its own: the reply's
// small strings share backing arrays, which a kept one would keep alive.
func (r Result) Bytes() ([]byte, error) {
	v, err := r.typed()
	if err != nil {
		return nil, err
	}
	switch v.Type {
	case resp.TypeSimpleString: // OK and a few others share a read-only array: the caller gets its own
		return bytes.Clone(v.Str), nil
	case resp.TypeBulkString, resp.TypeVerbatim, resp.TypeBigNumber:
		if r.elem && len(v.Str) <= resp.MaxShared {
			// It may share its reply's backing array (up to 16 KiB): a caller that
			// keeps it must not keep the whole array alive (resp.Value.Str).
			return bytes.Clone(v.Str), nil
		}
		return v.Str, nil
	}
	s, err := valueText(v)
	return []byte(s), err
}

// Int64 returns an integer reply, or a string reply that holds an integer.
func (r Result) Int64() (int64, error) {
	v, err := r.typed()
	if err != nil {
		return 0, err
	}
	return valueInt(v)
}

// Float64 returns a double reply, or a string or integer reply that holds a number.
func (r Result) Float64() (float64, error) {
	v, err := r.typed()
	if err != nil {
		return 0, err
	}
	switch v.Type {
	case resp.TypeDouble:
		return v.Float, nil
	case resp.TypeInteger:
		return float64(v.Int), nil
	case resp.TypeSimpleString, resp.TypeBulkString, resp.TypeVerbatim, resp.TypeBigNumber:
		f, err := strconv.ParseFloat(string(v.Str), 64)
		if err != nil {
			return 0, fmt.Errorf("redline: reply %q is not a number", v.Str)
		}
		return f, nil
	}
	return 0, typeErr(v, "a number")
}

// Bool returns a boolean reply, or an integer reply as 0/1 ("OK" is true, too).
func (r Result) Bool() (bool, error) {
	v, err := r.typed()
	if err != nil {
		return false, err
	}
	switch v.Type {
	case resp.TypeBoolean, resp.TypeInteger:
		return v.Int != 0, nil
	case resp.TypeSimpleString:
		return string(v.Str) == "OK", nil
	}
	return false, typeErr(v, "a boolean")
}

// Slice returns the elements of an array, set or push reply as Results.
func (r Result) Slice() ([]Result, error) {
	v, err := r.typed()
	if err != nil {
		return nil, err
	}
	if !isList(v) {
		return nil, typeErr(v, "an array")
	}
	out := make([]Result, len(v.Elems))
	for i, e := range v.Elems {
		out[i] = Result{val: e, elem: true}
	}
	return out, nil
}

// Strings returns an array reply as strings; a null element becomes "".
func (r Result) Strings() ([]string, error) {
	v, err := r.typed()
	if err != nil {
		return nil, err
	}
	if !isList(v) {
		return nil, typeErr(v, "an array")
	}
	out := make([]string, len(v.Elems))
	for i, e := range v.Elems {
		if e.IsNull() {
			continue
		}
		if e.Err != nil {
			return nil, e.Err
		}
		if out[i], err = valueText(e); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Int64s returns an array reply as integers.
func (r Result) Int64s() ([]int64, error) {
	v, err := r.typed()
	if err != nil {
		return nil, err
	}
	if !isList(v) {
		return nil, typeErr(v, "an array")
	}
	out := make([]int64, len(v.Elems))
	for i, e := range v.Elems {
		if out[i], err = valueInt(e); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// StringMap returns a map reply (RESP3) or a flat key-value array (RESP2) as a map.
func (r Result) StringMap() (map[string]string, error) {
	v, err := r.typed()
	if err != nil {
		return nil, err
	}
	if v.Type != resp.TypeMap && !isList(v) || len(v.Elems)%2 != 0 {
		return nil, typeErr(v, "a map")
	}
	out := make(map[string]string, len(v.Elems)/2)
	for i := 0; i < len(v.Elems); i += 2 {
		k, err := valueText(v.Elems[i])
		if err != nil {
			return nil, err
		}
		var val string
		if !v.Elems[i+1].IsNull() {
			if val, err = valueText(v.Elems[i+1]); err != nil {
				return nil, err
			}
		}
		out[k] = val
	}
	return out, nil
}

func isList(v resp.Value) bool { return v.IsList() }

func valueText(v resp.Value) (string, error) { return v.AsText() }

func valueInt(v resp.Value) (int64, error) { return v.AsInt() }

func typeErr(v resp.Value, want string) error { return resp.TypeErr(v, want) }
