package resp

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

// user is an encoding.BinaryMarshaler of the tests.
type user struct{ name string }

func (u *user) MarshalBinary() ([]byte, error) {
	if u.name == "" {
		return nil, errors.New("no name")
	}
	return []byte("user:" + u.name), nil
}

// TestArgTimeText: the documented forms of time.Duration (nanoseconds, as go-redis) and
// time.Time (RFC3339Nano, as go-redis).
func TestArgTimeText(t *testing.T) {
	for _, c := range []struct {
		arg  any
		want string
	}{
		{time.Second, "1000000000"},
		{-1500 * time.Millisecond, "-1500000000"},
		{time.Date(2026, 12, 6, 15, 4, 5, 123456789, time.UTC), "2026-12-06T15:04:05.123456789Z"},
		{time.Date(2026, 12, 6, 15, 4, 5, 0, time.FixedZone("", 3600)), "2026-12-06T15:04:05+01:00"},
	} {
		if got := string(AppendArg(nil, c.arg)); got != c.want {
			t.Errorf("%T %v: %q, want %q", c.arg, c.arg, got, c.want)
		}
	}
}

// TestExpandArgs: slices are flattened in place, marshalers marshaled, the rest kept.
func TestExpandArgs(t *testing.T) {
	at := time.Unix(1700000000, 0).UTC()
	got, err := ExpandArgs([]any{"DEL", []string{"a", "b"}, "c", []any{1, []byte("d"), &user{"x"}, time.Second, at}, []string{}, &user{"y"}})
	if err != nil {
		t.Fatal(err)
	}
	want := []any{"DEL", "a", "b", "c", 1, []byte("d"), []byte("user:x"), time.Second, "2023-11-14T22:13:20Z", []byte("user:y")}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %#v\nwant %#v", got, want)
	}
	if err := CheckArgs(got); err != nil {
		t.Fatalf("the expansion is not sendable: %v", err)
	}
	// A slice as the first argument: the command's name comes from it.
	got, err = ExpandArgs([]any{[]string{"GET", "k"}})
	if err != nil || !reflect.DeepEqual(got, []any{"GET", "k"}) {
		t.Fatalf("got %#v, %v", got, err)
	}
}

// TestExpandArgsUnchanged: a command that needs no conversion is returned as it is,
// without an allocation (FlattenArgs and ExpandArgs); unsupported types are left for
// CheckArgs when there is nothing to flatten.
func TestExpandArgsUnchanged(t *testing.T) {
	args := []any{"SET", "k", []byte("v"), 1, int64(2), 1.5, true, time.Second, time.Time{}}
	for name, f := range map[string]func([]any) ([]any, error){"FlattenArgs": FlattenArgs, "ExpandArgs": ExpandArgs} {
		got, err := f(args)
		if err != nil || &got[0] != &args[0] || len(got) != len(args) {
			t.Fatalf("%s: got a copy or an error: %v", name, err)
		}
		if n := testing.AllocsPerRun(100, func() { _, _ = f(args) }); n != 0 {
			t.Fatalf("%s allocated %v times", name, n)
		}
		odd := []any{"SET", "k", struct{}{}, nil, map[string]int{}}
		got, err = f(odd)
		if err != nil || &got[0] != &odd[0] {
			t.Fatalf("%s: unsupported types were not left alone: %v", name, err)
		}
		var ae *ArgTypeError
		if err := CheckArgs(got); !errors.As(err, &ae) || ae.Index != 2 {
			t.Fatalf("CheckArgs: %v", err)
		}
	}
}

// TestFlattenArgs: FlattenArgs flattens like ExpandArgs, copies what it keeps and
// refuses a marshaler, saying what to do.
func TestFlattenArgs(t *testing.T) {
	keys := []string{string([]byte("a")), "b"}
	b := []byte("v")
	got, err := FlattenArgs([]any{"MSET", []any{keys[0], b}, []string{"c", "d"}})
	if err != nil {
		t.Fatal(err)
	}
	want := []any{"MSET", "a", []byte("v"), "c", "d"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %#v, want %#v", got, want)
	}
	b[0] = 'X'
	if string(got[2].([]byte)) != "v" {
		t.Fatal("the flattened []byte is the caller's")
	}
	_, err = FlattenArgs([]any{"SET", []string{"k"}, &user{"x"}})
	var ae *ArgTypeError
	if !errors.As(err, &ae) || ae.Index != 2 || !strings.Contains(err.Error(), "MarshalBinary") {
		t.Fatalf("a marshaler: %v", err)
	}
	_, err = FlattenArgs([]any{"SET", "k", []any{1, &user{"x"}}})
	if !errors.As(err, &ae) || ae.Index != 2 || !ae.InSlice || ae.Element != 1 || !strings.Contains(err.Error(), "argument 2, element 1, has unsupported type *resp.user") {
		t.Fatalf("a marshaler in a slice: %v", err)
	}
}

// TestExpandArgsErrors: a failing MarshalBinary, a nil marshaler pointer and a nested
// slice are errors naming the argument; nothing panics.
func TestExpandArgsErrors(t *testing.T) {
	var nilUser *user
	for _, c := range []struct {
		args      []any
		index     int
		elem      int
		marshal   bool
		substring string
	}{
		{[]any{"SET", "k", &user{}}, 2, -1, true, "argument 2 (*resp.user): MarshalBinary: no name"},
		{[]any{"SET", "k", []any{"a", &user{}}}, 2, 1, true, "argument 2, element 1 (*resp.user)"},
		{[]any{"SET", "k", nilUser}, 2, -1, true, "nil pointer"},
		{[]any{"DEL", []any{"a", []string{"b"}}}, 1, 1, false, "argument 1, element 1, has unsupported type []string"},
		{[]any{"DEL", []any{[]any{}}}, 1, 0, false, "unsupported type"},
	} {
		got, err := ExpandArgs(c.args)
		if got != nil || err == nil || !strings.Contains(err.Error(), c.substring) {
			t.Errorf("%v: got %v, %v; want an error with %q", c.args, got, err, c.substring)
			continue
		}
		var me *ArgMarshalError
		var ae *ArgTypeError
		switch {
		case c.marshal && errors.As(err, &me):
			if me.Index != c.index || me.Element != c.elem {
				t.Errorf("%v: %+v", c.args, me)
			}
		case !c.marshal && errors.As(err, &ae):
			if ae.Index != c.index || !ae.InSlice || ae.Element != c.elem {
				t.Errorf("%v: %+v", c.args, ae)
			}
		default:
			t.Errorf("%v: error of type %T", c.args, err)
		}
	}
}

// BenchmarkFlattenArgsNone is what Do pays for slice support on a call without a slice:
// one pass of type comparisons.
func BenchmarkFlattenArgsNone(b *testing.B) {
	args := []any{"SET", "key", []byte("value")}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := FlattenArgs(args); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkFlattenArgsSlice flattens DEL with a []string of 10 keys (copied).
func BenchmarkFlattenArgsSlice(b *testing.B) {
	args := []any{"DEL", []string{"k0", "k1", "k2", "k3", "k4", "k5", "k6", "k7", "k8", "k9"}}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := FlattenArgs(args); err != nil {
			b.Fatal(err)
		}
	}
}
