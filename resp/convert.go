package resp

import (
	"fmt"
	"strconv"
)

// IsList reports whether v is an array, a set or a push: a list of elements.
func (v Value) IsList() bool {
	return v.Type == TypeArray || v.Type == TypeSet || v.Type == TypePush
}

// AsText returns a string reply's text; numbers and booleans as their text.
func (v Value) AsText() (string, error) {
	switch v.Type {
	case TypeSimpleString, TypeBulkString, TypeVerbatim, TypeBigNumber:
		return string(v.Str), nil
	case TypeInteger:
		return strconv.FormatInt(v.Int, 10), nil
	case TypeDouble:
		return strconv.FormatFloat(v.Float, 'f', -1, 64), nil
	case TypeBoolean:
		return strconv.FormatBool(v.Int != 0), nil
	}
	return "", TypeErr(v, "a string")
}

// AsInt returns an integer reply (a boolean as 0/1), or a string or double reply that
// holds an integer. A server's error reply is returned as the error.
func (v Value) AsInt() (int64, error) {
	switch v.Type {
	case TypeInteger, TypeBoolean:
		return v.Int, nil
	case TypeSimpleString, TypeBulkString, TypeVerbatim, TypeBigNumber:
		n, err := strconv.ParseInt(string(v.Str), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("redline: reply %q is not an integer", v.Str)
		}
		return n, nil
	case TypeDouble:
		if v.Float == float64(int64(v.Float)) {
			return int64(v.Float), nil
		}
	}
	if v.Err != nil {
		return 0, v.Err
	}
	return 0, TypeErr(v, "an integer")
}

// TypeErr is the error for a reply of another type than the caller wants: the
// server's error when v is an error reply.
func TypeErr(v Value, want string) error {
	if v.Err != nil {
		return v.Err
	}
	return fmt.Errorf("redline: reply is %s, not %s", v.Type, want)
}
