package topology

import "github.com/redline-go/redline/resp"

// Helpers that read the parts of a reply, accepting the RESP2 and RESP3 forms alike.

// str returns the text of a string value (bulk, simple or verbatim string).
func str(v *resp.Value) ([]byte, bool) {
	switch v.Type {
	case resp.TypeBulkString, resp.TypeSimpleString, resp.TypeVerbatim:
		return v.Str, true
	}
	return nil, false
}

// integer returns the value of an integer, or of a string holding a decimal integer (Redis
// 7.0.0 to 7.0.? sent the slots of CLUSTER SHARDS as strings).
func integer(v *resp.Value) (int64, bool) {
	switch v.Type {
	case resp.TypeInteger:
		return v.Int, true
	case resp.TypeBulkString, resp.TypeSimpleString:
		return parseInt(v.Str)
	}
	return 0, false
}

// parseInt parses an optionally negative decimal integer of at most 18 digits.
func parseInt(b []byte) (int64, bool) {
	neg := false
	if len(b) > 0 && b[0] == '-' {
		neg, b = true, b[1:]
	}
	if len(b) == 0 || len(b) > 18 {
		return 0, false
	}
	var n int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	if neg {
		n = -n
	}
	return n, true
}

// pairs returns the keys and values, alternating, of a map: a RESP3 map, or the flat array
// of a RESP2 reply. It fails on any other type and on an odd number of elements.
func pairs(v *resp.Value) ([]resp.Value, bool) {
	switch v.Type {
	case resp.TypeMap, resp.TypeArray:
		if len(v.Elems)%2 != 0 {
			return nil, false
		}
		return v.Elems, true
	}
	return nil, false
}

// array returns the elements of an array (a RESP3 set is accepted too).
func array(v *resp.Value) ([]resp.Value, bool) {
	switch v.Type {
	case resp.TypeArray, resp.TypeSet:
		return v.Elems, true
	}
	return nil, false
}

// typeName names the type of v for messages.
func typeName(v *resp.Value) string { return v.Type.String() }
