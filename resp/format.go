package resp

import (
	"strconv"
)

// Limits of Value.String, which is meant for logs and test failures, not for data.
const (
	maxShownBytes = 64 // of one string
	maxShownElems = 16 // of one aggregate
)

// String returns a compact, human-readable form of v for debugging and test failures, such
// as `["GET" "key"]`, `{"a": 1}` or `-ERR unknown command`. Long strings and aggregates are
// elided. The form is not RESP and is not meant to be parsed.
func (v Value) String() string {
	return string(appendDebug(nil, &v))
}

func appendDebug(dst []byte, v *Value) []byte {
	if len(v.Attrs) > 0 {
		dst = append(dst, '|')
		dst = appendDebugPairs(dst, v.Attrs)
		dst = append(dst, ' ')
	}
	switch v.Type {
	case TypeSimpleString:
		dst = append(dst, '+')
		dst = appendShort(dst, v.Str, false)
	case TypeError:
		dst = append(dst, '-')
		dst = appendShort(dst, v.errMsg(), false)
	case TypeBulkError:
		dst = append(dst, '!')
		dst = appendShort(dst, v.errMsg(), false)
	case TypeInteger:
		dst = strconv.AppendInt(dst, v.Int, 10)
	case TypeBulkString:
		dst = appendShort(dst, v.Str, true)
	case TypeNull:
		dst = append(dst, "nil"...)
	case TypeBoolean:
		dst = strconv.AppendBool(dst, v.Int != 0)
	case TypeDouble:
		dst = append(dst, ',')
		dst = appendFloat(dst, v.Float)
	case TypeBigNumber:
		dst = append(dst, '(')
		dst = appendShort(dst, v.Str, false)
	case TypeVerbatim:
		dst = append(dst, '=')
		dst = append(dst, v.Format...)
		dst = append(dst, ':')
		dst = appendShort(dst, v.Str, true)
	case TypeArray:
		dst = appendDebugList(dst, '[', v.Elems, ']')
	case TypeSet:
		dst = append(dst, '~')
		dst = appendDebugList(dst, '[', v.Elems, ']')
	case TypePush:
		dst = append(dst, '>')
		dst = appendDebugList(dst, '[', v.Elems, ']')
	case TypeMap:
		dst = appendDebugPairs(dst, v.Elems)
	case TypeAttribute:
		dst = append(dst, '|')
		dst = appendDebugPairs(dst, v.Elems)
	default:
		dst = append(dst, v.Type.String()...)
	}
	return dst
}

// appendShort appends b, elided after maxShownBytes, quoted or with control bytes escaped.
func appendShort(dst, b []byte, quote bool) []byte {
	cut := len(b) > maxShownBytes
	s := b
	if cut {
		s = b[:maxShownBytes]
	}
	if quote {
		dst = strconv.AppendQuote(dst, string(s))
	} else {
		q := strconv.AppendQuote(nil, string(s))
		dst = append(dst, q[1:len(q)-1]...) // escaped, without the quotes
	}
	if cut {
		dst = append(dst, "…("...)
		dst = strconv.AppendInt(dst, int64(len(b)), 10)
		dst = append(dst, " bytes)"...)
	}
	return dst
}

func appendDebugList(dst []byte, open byte, elems []Value, closer byte) []byte {
	dst = append(dst, open)
	for i := range elems {
		if i == maxShownElems {
			dst = append(dst, " …("...)
			dst = strconv.AppendInt(dst, int64(len(elems)), 10)
			dst = append(dst, " elements)"...)
			break
		}
		if i > 0 {
			dst = append(dst, ' ')
		}
		dst = appendDebug(dst, &elems[i])
	}
	return append(dst, closer)
}

func appendDebugPairs(dst []byte, kv []Value) []byte {
	dst = append(dst, '{')
	for i := 0; i < len(kv); i += 2 {
		if i == 2*maxShownElems {
			dst = append(dst, ", …("...)
			dst = strconv.AppendInt(dst, int64(len(kv)/2), 10)
			dst = append(dst, " pairs)"...)
			break
		}
		if i > 0 {
			dst = append(dst, ", "...)
		}
		dst = appendDebug(dst, &kv[i])
		dst = append(dst, ": "...)
		if i+1 < len(kv) {
			dst = appendDebug(dst, &kv[i+1])
		} else {
			dst = append(dst, '?')
		}
	}
	return append(dst, '}')
}
