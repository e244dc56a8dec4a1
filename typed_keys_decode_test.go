package redline

import (
	"errors"
	"testing"
	"time"

	"github.com/redline-go/redline/resp"
)

// TestTypedKeysDecodeMalformed feeds the decoders of typed_keys_decode.go replies of the
// wrong shape: each must return an error naming what it wanted, never panic, and a null
// reply must be Nil.
func TestTypedKeysDecodeMalformed(t *testing.T) {
	t.Parallel()
	str := func(s string) resp.Value { return resp.Value{Type: resp.TypeBulkString, Str: []byte(s)} }
	num := func(n int64) resp.Value { return resp.Value{Type: resp.TypeInteger, Int: n} }
	arr := func(es ...resp.Value) resp.Value { return resp.Value{Type: resp.TypeArray, Elems: es} }
	null := resp.Value{Type: resp.TypeNull}
	decoders := map[string]func(Result) error{
		"ExpireTime": func(r Result) error { _, err := decodeExpireTime(r, time.Second); return err },
		"Seconds":    func(r Result) error { _, err := decodeSeconds(r); return err },
		"IntPtrs":    func(r Result) error { _, err := decodeIntPtrs(r); return err },
		"KeyStrings": func(r Result) error { _, _, err := decodeKeyStrings(r); return err },
		"FieldValues": func(r Result) error {
			_, err := decodeFieldValues(r)
			return err
		},
		"LCSIdx": func(r Result) error { _, err := decodeLCSIdx(r); return err },
	}
	bad := map[string][]resp.Value{
		"ExpireTime":  {str("x"), arr()},
		"Seconds":     {str("x"), arr()},
		"IntPtrs":     {num(1), arr(str("x")), arr(arr())},
		"KeyStrings":  {num(1), arr(str("k")), arr(str("k"), num(1)), arr(arr(), arr())},
		"FieldValues": {num(1), arr(str("f")), arr(arr(str("f"))), arr(arr(str("f"), str("v")), str("g"))},
		"LCSIdx": {num(1), arr(str("len")), arr(str("len"), str("x")), arr(str("matches"), num(1)),
			arr(str("matches"), arr(arr(num(1), num(2)))), arr(str("matches"), arr(arr(arr(num(1)), arr(num(1), num(2)))))},
	}
	for name, decode := range decoders {
		if err := decode(Result{val: null}); !errors.Is(err, Nil) {
			t.Errorf("%s of a null: %v, want Nil", name, err)
		}
		for _, v := range bad[name] {
			err := decode(Result{val: v})
			if err == nil || errors.Is(err, Nil) {
				t.Errorf("%s of %v: %v, want a type error", name, v, err)
			}
		}
	}

	// The RESP2 and RESP3 forms of one reply decode alike.
	resp2 := arr(str("f"), str("1"), str("g"), str("2"))
	resp3 := arr(arr(str("f"), str("1")), arr(str("g"), str("2")))
	a, err := decodeFieldValues(Result{val: resp2})
	b, err2 := decodeFieldValues(Result{val: resp3})
	if err != nil || err2 != nil || len(a) != 2 || a[0] != b[0] || a[1] != b[1] || a[1] != (FieldValue{"g", "2"}) {
		t.Fatalf("decodeFieldValues: RESP2 %v %v, RESP3 %v %v", a, err, b, err2)
	}
}
