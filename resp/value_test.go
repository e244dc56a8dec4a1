package resp

import (
	"math"
	"strings"
	"testing"
)

func TestTypeString(t *testing.T) {
	all := map[Type]string{
		TypeSimpleString: "simple-string", TypeError: "error", TypeInteger: "integer",
		TypeBulkString: "bulk-string", TypeArray: "array", TypeNull: "null", TypeBoolean: "boolean",
		TypeDouble: "double", TypeBigNumber: "big-number", TypeBulkError: "bulk-error",
		TypeVerbatim: "verbatim-string", TypeMap: "map", TypeSet: "set", TypeAttribute: "attribute",
		TypePush: "push", 'x': "Type(0x78)", 0: "Type(0x0)",
	}
	for typ, want := range all {
		if got := typ.String(); got != want {
			t.Errorf("%q.String() = %q, want %q", byte(typ), got, want)
		}
	}
}

func TestValueString(t *testing.T) {
	cases := []struct {
		v    Value
		want string
	}{
		{simple("OK"), "+OK"},
		{errv("ERR x\ny"), `-ERR x\ny`},
		{Value{Type: TypeBulkError, Err: ParseError("SYNTAX s")}, "!SYNTAX s"},
		{integer(-3), "-3"},
		{bulk("a\"b"), `"a\"b"`},
		{null(), "nil"},
		{boolean(true), "true"},
		{double(math.Inf(-1)), ",-inf"},
		{Value{Type: TypeBigNumber, Str: []byte("123")}, "(123"},
		{Value{Type: TypeVerbatim, Format: "txt", Str: []byte("hi")}, `=txt:"hi"`},
		{agg(TypeArray, bulk("GET"), bulk("k")), `["GET" "k"]`},
		{agg(TypeSet, integer(1)), "~[1]"},
		{agg(TypePush, bulk("message")), `>["message"]`},
		{agg(TypeMap, bulk("a"), integer(1), bulk("b"), null()), `{"a": 1, "b": nil}`},
		{agg(TypeMap, bulk("a")), `{"a": ?}`},
		{agg(TypeAttribute, bulk("a"), integer(1)), `|{"a": 1}`},
		{withAttrs(integer(1), simple("ttl"), integer(3)), "|{+ttl: 3} 1"},
		{Value{Type: 'x'}, "Type(0x78)"},
	}
	for _, tc := range cases {
		if got := tc.v.String(); got != tc.want {
			t.Errorf("String() = %s, want %s", got, tc.want)
		}
	}
	long := bulk(strings.Repeat("a", 100)).String()
	if !strings.HasSuffix(long, `"…(100 bytes)`) || len(long) > 100 {
		t.Errorf("long string: %s", long)
	}
	many := make([]Value, 40)
	for i := range many {
		many[i] = integer(int64(i))
	}
	if s := agg(TypeArray, many...).String(); !strings.HasSuffix(s, "15 …(40 elements)]") {
		t.Errorf("long array: %s", s)
	}
	if s := agg(TypeMap, many...).String(); !strings.HasSuffix(s, "…(20 pairs)}") {
		t.Errorf("long map: %s", s)
	}
}

func TestValueEqual(t *testing.T) {
	same := [][2]Value{
		{bulk(""), {Type: TypeBulkString}},
		{boolean(true), {Type: TypeBoolean, Int: 9}},
		{double(math.NaN()), {Type: TypeDouble, Float: -math.NaN()}},
		{errv("ERR x"), {Type: TypeError, Err: ParseError("ERR x")}},
		{errv("ERR x"), {Type: TypeError, Str: []byte("ERR x")}},
		{integer(1), {Type: TypeInteger, Int: 1, Str: []byte("ignored")}},
		{agg(TypeArray), {Type: TypeArray}},
		{withAttrs(null()), null()},
		{null(), {Type: TypeNull, Int: 5}},
	}
	for _, p := range same {
		if !p[0].Equal(p[1]) || !p[1].Equal(p[0]) {
			t.Errorf("%v and %v should be equal", p[0], p[1])
		}
	}
	differ := [][2]Value{
		{bulk("a"), simple("a")},
		{bulk("a"), bulk("b")},
		{integer(1), integer(2)},
		{boolean(true), boolean(false)},
		{double(0), double(math.Copysign(0, -1))},
		{double(1), double(math.NaN())},
		{Value{Type: TypeVerbatim, Format: "txt"}, {Type: TypeVerbatim, Format: "mkd"}},
		{agg(TypeArray, integer(1)), agg(TypeArray, integer(2))},
		{agg(TypeArray, integer(1)), agg(TypeSet, integer(1))},
		{agg(TypeArray, integer(1)), agg(TypeArray)},
		{withAttrs(null(), integer(1), integer(2)), null()},
		{withAttrs(null(), integer(1), integer(2)), withAttrs(null(), integer(1), integer(3))},
		{errv("ERR x"), errv("ERR y")},
	}
	for _, p := range differ {
		if p[0].Equal(p[1]) || p[1].Equal(p[0]) {
			t.Errorf("%v and %v should differ", p[0], p[1])
		}
	}
}

func TestValuePredicates(t *testing.T) {
	if !null().IsNull() || bulk("").IsNull() {
		t.Error("IsNull")
	}
	if !errv("x").IsError() || !(Value{Type: TypeBulkError}).IsError() || simple("x").IsError() {
		t.Error("IsError")
	}
}
