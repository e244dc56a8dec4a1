package redline

import (
	"context"
	"fmt"
	"os"
	"reflect"
	"testing"
	"time"

	"github.com/redline-go/redline/internal/command/typedgen"
	"github.com/redline-go/redline/redistest"
	"github.com/redline-go/redline/resp"
)

// TestTypedAllocsPerCall guards the allocation budget of the typed methods, as
// TestAllocsPerCall does Do's: typed Get and HGet allocate at most their reply (the
// string is the reply's own bytes), typed Set (no options) and Incr nothing. Arguments
// are variables, as in real code: a key or value boxed into an escaping []any costs one
// allocation each here.
func TestTypedAllocsPerCall(t *testing.T) {
	skipAllocsUnderRace(t)
	cl := redistest.Shared(t, "bench", redistest.Config{Masters: 3, NoProxy: true})
	c := newTestClient(t, cl, Options{})
	ctx := context.Background()
	key := fmt.Sprintf("typedallocs:%d", os.Getpid())
	hkey := fmt.Sprintf("typedallocs:h:%d", os.Getpid())
	ikey := fmt.Sprintf("typedallocs:i:%d", os.Getpid())
	field := "f"
	val := []byte("0123456789abcdef")
	sval := "0123456789abcdef"
	if err := c.Set(ctx, key, val, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := c.HSet(ctx, hkey, map[string]any{field: val}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		max  float64
		fn   func() error
	}{
		{"Get", 1, func() error { _, err := c.Get(ctx, key); return err }},
		{"HGet", 1, func() error { _, err := c.HGet(ctx, hkey, field); return err }},
		{"Set []byte", 0, func() error { return c.Set(ctx, key, val, nil) }},
		{"Set string", 0, func() error { return c.Set(ctx, key, sval, nil) }},
		{"Incr", 0, func() error { _, err := c.Incr(ctx, ikey); return err }},
	} {
		var err error
		n := testing.AllocsPerRun(300, func() {
			if e := tc.fn(); e != nil {
				err = e
			}
		})
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		t.Logf("%s: %v allocations per call", tc.name, n)
		if n > tc.max {
			t.Errorf("typed %s: %v allocations per call, want ≤ %v", tc.name, n, tc.max)
		}
	}
}

// TestSmallOptions checks the bounds of typedgen.SmallOptions: an option struct with
// every field set adds no more arguments than its bound (a method taking it builds its
// command in an array of that room; more would be cut off), and has no field of
// unbounded length (a slice or map), which no bound could cover.
func TestSmallOptions(t *testing.T) {
	cases := map[string]struct {
		new  func() any        // a pointer to a zero struct
		args func(o any) []any // its appendArgs
	}{
		"SetOptions":          {func() any { return new(SetOptions) }, func(o any) []any { return o.(*SetOptions).appendArgs(nil) }},
		"GetExOptions":        {func() any { return new(GetExOptions) }, func(o any) []any { return o.(*GetExOptions).appendArgs(nil) }},
		"LPosOptions":         {func() any { return new(LPosOptions) }, func(o any) []any { return o.(*LPosOptions).appendArgs(nil) }},
		"ZRangeOptions":       {func() any { return new(ZRangeOptions) }, func(o any) []any { return o.(*ZRangeOptions).appendArgs(nil) }},
		"RestoreOptions":      {func() any { return new(RestoreOptions) }, func(o any) []any { return o.(*RestoreOptions).appendArgs(nil) }},
		"LCSIdxOptions":       {func() any { return new(LCSIdxOptions) }, func(o any) []any { return o.(*LCSIdxOptions).appendArgs(nil) }},
		"FunctionListOptions": {func() any { return new(FunctionListOptions) }, func(o any) []any { return o.(*FunctionListOptions).appendArgs(nil) }},
	}
	for name, most := range typedgen.SmallOptions {
		c, ok := cases[name]
		if !ok {
			t.Errorf("%s: no case in TestSmallOptions: add one", name)
			continue
		}
		o := c.new()
		s := reflect.ValueOf(o).Elem()
		for i := range s.NumField() {
			f := s.Field(i)
			switch {
			case f.Type() == reflect.TypeOf(time.Time{}):
				f.Set(reflect.ValueOf(time.Unix(1700000000, 5e8)))
			case f.Kind() == reflect.Bool:
				f.SetBool(true)
			case f.Kind() == reflect.Int64 || f.Kind() == reflect.Int:
				f.SetInt(int64(1500 * time.Millisecond))
			case f.Kind() == reflect.Float64:
				f.SetFloat(1.5)
			case f.Kind() == reflect.String:
				f.SetString("x")
			default:
				t.Errorf("%s.%s: a %s may add any number of arguments: not a small option", name, s.Type().Field(i).Name, f.Type())
			}
		}
		if n := len(c.args(o)); n > most {
			t.Errorf("%s with every field set adds %d arguments, over its bound %d in typedgen.SmallOptions", name, n, most)
		} else {
			t.Logf("%s: %d arguments, bound %d", name, n, most)
		}
	}
}

// TestDecodeText checks decodeText against Text: the same string for every reply type,
// and a copy for an element of a larger reply (whose bytes may share its array).
func TestDecodeText(t *testing.T) {
	for _, r := range []Result{
		{val: resp.Value{Type: resp.TypeBulkString, Str: []byte("v")}},
		{val: resp.Value{Type: resp.TypeBulkString, Str: []byte{}}},
		{val: resp.Value{Type: resp.TypeSimpleString, Str: []byte("OK")}},
		{val: resp.Value{Type: resp.TypeVerbatim, Str: []byte("txt"), Format: "txt"}},
		{val: resp.Value{Type: resp.TypeInteger, Int: 42}},
		{val: resp.Value{Type: resp.TypeNull}},
		{val: resp.Value{Type: resp.TypeArray}},
		{val: resp.Value{Type: resp.TypeBulkString, Str: []byte("e")}, elem: true},
	} {
		want, wantErr := r.Text()
		got, err := decodeText(r)
		if got != want || (err == nil) != (wantErr == nil) {
			t.Errorf("decodeText(%v) = %q, %v; Text: %q, %v", r.val, got, err, want, wantErr)
		}
	}
	elem := Result{val: resp.Value{Type: resp.TypeBulkString, Str: []byte("shared")}, elem: true}
	s, _ := decodeText(elem)
	elem.val.Str[0] = 'X'
	if s != "shared" {
		t.Errorf("decodeText of an element aliases its bytes: %q", s)
	}
}

// BenchmarkTyped compares a typed method with Do for the same command: they should cost
// the same (ns/op) and allocate the same (allocs/op: GET its reply, SET nothing).
func BenchmarkTyped(b *testing.B) {
	cl := redistest.Shared(b, "bench", redistest.Config{Masters: 3, NoProxy: true})
	c := newTestClient(b, cl, Options{})
	ctx := context.Background()
	key := fmt.Sprintf("benchtyped:%d", os.Getpid())
	val := []byte("0123456789abcdef")
	if err := c.Set(ctx, key, val, nil); err != nil {
		b.Fatal(err)
	}
	for _, bc := range []struct {
		name string
		fn   func() error
	}{
		{"GET/Do", func() error { _, err := c.Do(ctx, "GET", key).Text(); return err }},
		{"GET/typed", func() error { _, err := c.Get(ctx, key); return err }},
		{"SET/Do", func() error { return c.Do(ctx, "SET", key, val).Err() }},
		{"SET/typed", func() error { return c.Set(ctx, key, val, nil) }},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for range b.N {
				if err := bc.fn(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
