package redline

import (
	"errors"
	"strings"
	"testing"
	"time"
)

type hashUser struct {
	Name    string        `redis:"name"`
	Age     int           `redis:"age"`
	Score   float64       `redis:"score"`
	Admin   bool          `redis:"admin"`
	Raw     []byte        `redis:"raw,omitempty"`
	Session time.Duration `redis:"session"`
	Born    time.Time     `redis:"born"`
	Level   hashLevel     `redis:"level"`
	Note    string        `redis:"note,omitempty"`
	Skipped string        `redis:"-"`
	Plain   string
}

type hashLevel uint8

// TestTypedHashStruct: HSetFrom writes a struct's tagged fields, HGetAllInto and
// HMGetInto read them back; a missing key is Nil; a value that does not parse names
// its field.
func TestTypedHashStruct(t *testing.T) {
	t.Parallel()
	forProtocols(t, func(t *testing.T, c *Client, p string) {
		ctx := t.Context()
		h := p + "user"
		c.Del(ctx, h)
		in := hashUser{Name: "Ada", Age: 36, Score: 9.5, Admin: true, Raw: []byte{0, 1, 255}, Session: 90 * time.Minute,
			Born: time.Date(1815, 12, 10, 0, 0, 0, 5, time.UTC), Level: 7, Skipped: "x", Plain: "y"}
		n, err := c.HSetFrom(ctx, h, &in)
		eq(t, "HSetFrom", n, err, 8) // Note is empty and omitempty
		keys, err := c.HKeys(ctx, h)
		check(t, err)
		if len(keys) != 8 || strings.Contains(strings.Join(keys, " "), "note") {
			t.Fatalf("hash fields %v", keys)
		}
		var out hashUser
		check(t, c.HGetAllInto(ctx, h, &out))
		in.Skipped, in.Plain = "", ""
		if !equalUsers(out, in) {
			t.Fatalf("HGetAllInto = %+v, want %+v", out, in)
		}
		out2 := hashUser{Note: "kept"}
		check(t, c.HMGetInto(ctx, h, &out2))
		in.Note = "kept"
		if !equalUsers(out2, in) {
			t.Fatalf("HMGetInto = %+v, want %+v", out2, in)
		}

		var none hashUser
		isNil(t, "HGetAllInto of a missing key", c.HGetAllInto(ctx, p+"none", &none))
		isNil(t, "HMGetInto of a missing key", c.HMGetInto(ctx, p+"none", &none))

		_, err = c.HSet(ctx, h, map[string]any{"age": "old"})
		check(t, err)
		err = c.HGetAllInto(ctx, h, &out)
		if err == nil || !strings.Contains(err.Error(), "field Age") || !strings.Contains(err.Error(), `"old"`) {
			t.Fatalf("HGetAllInto of a bad age: %v", err)
		}
	})
}

func equalUsers(a, b hashUser) bool {
	return a.Name == b.Name && a.Age == b.Age && a.Score == b.Score && a.Admin == b.Admin &&
		string(a.Raw) == string(b.Raw) && a.Session == b.Session && a.Born.Equal(b.Born) &&
		a.Level == b.Level && a.Note == b.Note && a.Skipped == b.Skipped && a.Plain == b.Plain
}

// TestHashStructRefused: what is not a struct of convertible tagged fields is an
// error, nothing sent (the client has no cluster: anything sent would fail otherwise).
func TestHashStructRefused(t *testing.T) {
	var c Client // never used to send: every case fails before
	ctx := t.Context()
	type chanField struct {
		C chan int `redis:"c"`
	}
	type unexported struct {
		a string `redis:"a"` //nolint:unused
	}
	type dup struct {
		A string `redis:"x"`
		B string `redis:"x"`
	}
	type badOpt struct {
		A string `redis:"a,inline"`
	}
	type untagged struct{ A string }
	type empty struct {
		A string `redis:"a,omitempty"`
	}
	for _, tc := range []struct {
		name string
		err  error
		want string
	}{
		{"nil", c.HGetAllInto(ctx, "k", nil), "pointer to a struct"},
		{"not a pointer", c.HGetAllInto(ctx, "k", hashUser{}), "pointer to a struct"},
		{"pointer to a non-struct", c.HMGetInto(ctx, "k", new(int)), "pointer to a struct"},
		{"nil struct pointer", c.HMGetInto(ctx, "k", (*hashUser)(nil)), "pointer to a struct"},
		{"chan field", c.HGetAllInto(ctx, "k", &chanField{}), "C is a chan int"},
		{"unexported", c.HGetAllInto(ctx, "k", &unexported{}), "not exported"},
		{"duplicate", c.HGetAllInto(ctx, "k", &dup{}), `both the hash field "x"`},
		{"bad option", c.HGetAllInto(ctx, "k", &badOpt{}), "unknown redis tag option"},
		{"untagged", c.HGetAllInto(ctx, "k", &untagged{}), "no field tagged"},
		{"HSetFrom non-struct", err1(c.HSetFrom(ctx, "k", 3)), "struct or a pointer"},
		{"HSetFrom nothing to set", err1(c.HSetFrom(ctx, "k", empty{})), "no field to set"},
		{"HSetFrom chan", err1(c.HSetFrom(ctx, "k", chanField{})), "C is a chan int"},
	} {
		if tc.err == nil || errors.Is(tc.err, Nil) || !strings.Contains(tc.err.Error(), tc.want) {
			t.Errorf("%s: %v; want an error containing %q", tc.name, tc.err, tc.want)
		}
	}
}
