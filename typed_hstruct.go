package redline

import (
	"context"
	"encoding"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Hashes to and from structs: a struct's fields tagged `redis:"name"` are the hash's
// fields (`redis:"name,omitempty"` leaves a zero value out of HSetFrom; untagged fields
// and `redis:"-"` are not hash fields). A field's type is a string, []byte, bool,
// integer, float, time.Duration (sent in nanoseconds), time.Time (sent as RFC 3339 text
// with nanoseconds) or a type whose pointer is an encoding.BinaryUnmarshaler and whose
// value an encoding.BinaryMarshaler — named types of these kinds too. Any other type is
// an error before anything is sent.

// HGetAllInto reads the hash at key into the tagged fields of the struct dst points to:
// each field of the struct that the hash has is set from it, the others are left as
// they are, and hash fields the struct does not name are ignored. It returns Nil when
// the key does not exist (nothing set), and an error naming the struct field when a
// value does not parse as its type (the fields before it are set).
//
// Command: HGETALL key, decoded into dst. Read-only: it may be served by a replica
// (Options.ReadFrom) and is retried when its reply is lost.
func (c *Client) HGetAllInto(ctx context.Context, key string, dst any) error {
	v, fields, err := structOf(dst)
	if err != nil {
		return err
	}
	m, err := c.HGetAll(ctx, key)
	if err != nil {
		return err
	}
	if len(m) == 0 {
		return Nil
	}
	for _, f := range fields {
		if s, ok := m[f.name]; ok {
			if err := f.set(v, s); err != nil {
				return err
			}
		}
	}
	return nil
}

// HMGetInto reads the fields of the hash at key that the struct dst points to names
// (its tagged fields) into it: those the hash has are set, the others left as they are.
// It returns Nil when none of them exists (the key does not, or has none of them), and
// an error naming the struct field when a value does not parse as its type.
//
// Command: HMGET key field [field ...], the struct's tagged fields. Read-only: it may be
// served by a replica (Options.ReadFrom) and is retried when its reply is lost.
func (c *Client) HMGetInto(ctx context.Context, key string, dst any) error {
	v, fields, err := structOf(dst)
	if err != nil {
		return err
	}
	names := make([]string, len(fields))
	for i, f := range fields {
		names[i] = f.name
	}
	vals, err := c.HMGet(ctx, key, names...)
	if err != nil {
		return err
	}
	if len(vals) != len(fields) {
		return fmt.Errorf("redline: HMGET answered %d values for %d fields", len(vals), len(fields))
	}
	found := false
	for i, f := range fields {
		if vals[i] == nil {
			continue
		}
		found = true
		if err := f.set(v, *vals[i]); err != nil {
			return err
		}
	}
	if !found {
		return Nil
	}
	return nil
}

// HSetFrom sets the fields of the hash at key from the tagged fields of src, a struct
// or a pointer to one (those tagged omitempty only when not zero), and returns how many
// fields were added (not counting those updated). A struct with no field to send is an
// error, nothing sent.
//
// Command: HSET key field value [field value ...], the struct's tagged fields.
func (c *Client) HSetFrom(ctx context.Context, key string, src any) (int64, error) {
	v := reflect.ValueOf(src)
	if v.Kind() == reflect.Pointer && !v.IsNil() {
		v = v.Elem()
	}
	if v.Kind() != reflect.Struct {
		return 0, fmt.Errorf("redline: HSetFrom needs a struct or a pointer to one, not %T", src)
	}
	fields, err := hashFields(v.Type())
	if err != nil {
		return 0, err
	}
	args := make([]any, 0, 2+2*len(fields))
	args = append(args, "HSET", key)
	for _, f := range fields {
		fv := v.FieldByIndex(f.index)
		if f.omitEmpty && fv.IsZero() {
			continue
		}
		a, err := f.arg(fv)
		if err != nil {
			return 0, err
		}
		args = append(args, f.name, a)
	}
	if len(args) == 2 {
		return 0, fmt.Errorf("redline: HSetFrom: %s has no field to set (tagged `redis:\"name\"`, not zero where omitempty)", v.Type())
	}
	return c.doTyped(ctx, args...).Int64()
}

// structOf returns the struct dst points to and its hash fields.
func structOf(dst any) (reflect.Value, []hashField, error) {
	v := reflect.ValueOf(dst)
	if v.Kind() != reflect.Pointer || v.IsNil() || v.Elem().Kind() != reflect.Struct {
		return reflect.Value{}, nil, fmt.Errorf("redline: want a non-nil pointer to a struct, not %T", dst)
	}
	v = v.Elem()
	fields, err := hashFields(v.Type())
	if err == nil && len(fields) == 0 {
		err = fmt.Errorf("redline: %s has no field tagged `redis:\"name\"`", v.Type())
	}
	return v, fields, err
}

// hashField is a struct field that is a hash field.
type hashField struct {
	index     []int
	goName    string // the struct field's name, for errors
	name      string // the hash field's
	omitEmpty bool
	typ       reflect.Type
}

// hashFieldsCache maps a struct type to its []hashField, or to the error that it has a
// field of a type these methods cannot convert.
var hashFieldsCache sync.Map

var (
	timeType              = reflect.TypeFor[time.Time]()
	binaryMarshalerType   = reflect.TypeFor[encoding.BinaryMarshaler]()
	binaryUnmarshalerType = reflect.TypeFor[encoding.BinaryUnmarshaler]()
)

// hashFields returns the tagged fields of struct type t, checked.
func hashFields(t reflect.Type) ([]hashField, error) {
	if v, ok := hashFieldsCache.Load(t); ok {
		if err, isErr := v.(error); isErr {
			return nil, err
		}
		return v.([]hashField), nil
	}
	var out []hashField
	var err error
	seen := map[string]string{}
	for i := range t.NumField() {
		sf := t.Field(i)
		tag, ok := sf.Tag.Lookup("redis")
		if !ok || tag == "-" {
			continue
		}
		name, opt, _ := strings.Cut(tag, ",")
		switch {
		case !sf.IsExported():
			err = fmt.Errorf("redline: %s.%s is tagged redis:%q but not exported", t, sf.Name, tag)
		case name == "":
			err = fmt.Errorf("redline: %s.%s: the redis tag names no field", t, sf.Name)
		case opt != "" && opt != "omitempty":
			err = fmt.Errorf("redline: %s.%s: unknown redis tag option %q (omitempty is the only one)", t, sf.Name, opt)
		case seen[name] != "":
			err = fmt.Errorf("redline: %s.%s and %s.%s are both the hash field %q", t, seen[name], t, sf.Name, name)
		case !convertible(sf.Type):
			err = fmt.Errorf("redline: %s.%s is a %s: a hash field is a string, []byte, bool, number, time.Duration, time.Time or encoding.Binary(Un)Marshaler", t, sf.Name, sf.Type)
		}
		if err != nil {
			break
		}
		seen[name] = sf.Name
		out = append(out, hashField{index: sf.Index, goName: sf.Name, name: name, omitEmpty: opt == "omitempty", typ: sf.Type})
	}
	if err != nil {
		hashFieldsCache.Store(t, err)
		return nil, err
	}
	hashFieldsCache.Store(t, out)
	return out, nil
}

// binary reports whether t is converted by encoding.BinaryMarshaler/Unmarshaler.
func binary(t reflect.Type) bool {
	return t != timeType && t.Implements(binaryMarshalerType) && reflect.PointerTo(t).Implements(binaryUnmarshalerType)
}

func convertible(t reflect.Type) bool {
	if t == timeType || binary(t) {
		return true
	}
	switch t.Kind() {
	case reflect.String, reflect.Bool,
		reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Float32, reflect.Float64:
		return true
	case reflect.Slice:
		return t.Elem().Kind() == reflect.Uint8
	}
	return false
}

// arg returns the field's value fv as a command argument.
func (f hashField) arg(fv reflect.Value) (any, error) {
	switch {
	case f.typ == timeType:
		return fv.Interface().(time.Time), nil
	case binary(f.typ):
		b, err := fv.Interface().(encoding.BinaryMarshaler).MarshalBinary()
		if err != nil {
			return nil, fmt.Errorf("redline: field %s (redis:%q): %w", f.goName, f.name, err)
		}
		return b, nil
	}
	switch f.typ.Kind() {
	case reflect.String:
		return fv.String(), nil
	case reflect.Bool:
		return fv.Bool(), nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return fv.Int(), nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return fv.Uint(), nil
	case reflect.Float32:
		return float32(fv.Float()), nil
	case reflect.Float64:
		return fv.Float(), nil
	}
	return fv.Bytes(), nil // []byte
}

// set sets the field of struct v from the hash field's value s.
func (f hashField) set(v reflect.Value, s string) error {
	fv := v.FieldByIndex(f.index)
	var err error
	switch {
	case f.typ == timeType:
		var t time.Time
		if t, err = time.Parse(time.RFC3339Nano, s); err == nil {
			fv.Set(reflect.ValueOf(t))
		}
	case binary(f.typ):
		err = fv.Addr().Interface().(encoding.BinaryUnmarshaler).UnmarshalBinary([]byte(s))
	default:
		switch f.typ.Kind() {
		case reflect.String:
			fv.SetString(s)
		case reflect.Bool:
			var b bool
			if b, err = strconv.ParseBool(s); err == nil {
				fv.SetBool(b)
			}
		case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
			var n int64
			if n, err = strconv.ParseInt(s, 10, f.typ.Bits()); err == nil {
				fv.SetInt(n)
			}
		case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
			var n uint64
			if n, err = strconv.ParseUint(s, 10, f.typ.Bits()); err == nil {
				fv.SetUint(n)
			}
		case reflect.Float32, reflect.Float64:
			var x float64
			if x, err = strconv.ParseFloat(s, f.typ.Bits()); err == nil {
				fv.SetFloat(x)
			}
		case reflect.Slice:
			fv.SetBytes([]byte(s))
		default:
			err = errors.New("unsupported type") // hashFields refused it
		}
	}
	if err != nil {
		return fmt.Errorf("redline: field %s (redis:%q) is a %s, the hash's value %q does not fit: %w", f.goName, f.name, f.typ, truncate(s, 64), err)
	}
	return nil
}

// truncate returns s, cut to n bytes with "…" when longer.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
