package resp

// AppendValue appends v in RESP3, exactly as a [Reader] decodes it: its attributes first,
// then the value, recursively. It is the inverse of the Reader: for every value v a Reader
// returns, reading AppendValue(nil, v) gives a value Equal to v.
//
// For values built by hand, AppendValue never produces a stream that breaks framing:
//   - CR and LF in a SimpleString, Error or BigNumber are replaced by spaces;
//   - an Error or BulkError with an empty Str is written with Err.Msg;
//   - a Verbatim Format is written as exactly 3 bytes (padded with spaces or cut; an empty
//     Format is written "txt");
//   - a Map or attribute list of odd length gets a null as its last value;
//   - a Value of TypeAttribute is written as a bare attribute frame (|n followed by its
//     Elems), which a Reader attaches to the value written after it;
//   - a Value of unknown Type (such as the zero Value) is written as a null.
//
// A BigNumber is written as its Str, which should be an optionally signed decimal integer.
func AppendValue(dst []byte, v Value) []byte {
	return appendValue(dst, &v)
}

func appendValue(dst []byte, v *Value) []byte {
	if len(v.Attrs) > 0 {
		dst = appendPairs(dst, '|', v.Attrs)
	}
	switch v.Type {
	case TypeSimpleString:
		return appendLine(dst, '+', v.Str)
	case TypeError:
		return appendLine(dst, '-', v.errMsg())
	case TypeBigNumber:
		return appendLine(dst, '(', v.Str)
	case TypeInteger:
		return appendHeader(dst, ':', v.Int)
	case TypeBulkString:
		return AppendBulk(dst, v.Str)
	case TypeBulkError:
		msg := v.errMsg()
		dst = appendHeader(dst, '!', int64(len(msg)))
		dst = append(dst, msg...)
		return append(dst, '\r', '\n')
	case TypeVerbatim:
		dst = appendHeader(dst, '=', int64(len(v.Str)+4))
		dst = appendFormat(dst, v.Format)
		dst = append(dst, ':')
		dst = append(dst, v.Str...)
		return append(dst, '\r', '\n')
	case TypeBoolean:
		if v.Int != 0 {
			return append(dst, "#t\r\n"...)
		}
		return append(dst, "#f\r\n"...)
	case TypeDouble:
		dst = append(dst, ',')
		dst = appendFloat(dst, v.Float)
		return append(dst, '\r', '\n')
	case TypeArray, TypeSet, TypePush:
		dst = appendHeader(dst, byte(v.Type), int64(len(v.Elems)))
		for i := range v.Elems {
			dst = appendValue(dst, &v.Elems[i])
		}
		return dst
	case TypeMap, TypeAttribute:
		return appendPairs(dst, byte(v.Type), v.Elems)
	}
	return append(dst, "_\r\n"...)
}

// appendPairs appends a map or attribute whose keys and values alternate in kv.
func appendPairs(dst []byte, t byte, kv []Value) []byte {
	dst = appendHeader(dst, t, int64((len(kv)+1)/2))
	for i := range kv {
		dst = appendValue(dst, &kv[i])
	}
	if len(kv)%2 == 1 {
		dst = append(dst, "_\r\n"...)
	}
	return dst
}

// appendFormat appends the 3-byte format of a verbatim string.
func appendFormat(dst []byte, f string) []byte {
	if f == "" {
		f = "txt"
	}
	for i := range 3 {
		c := byte(' ')
		if i < len(f) {
			c = f[i]
		}
		dst = append(dst, c)
	}
	return dst
}

// AppendValueRESP2 appends v for a RESP2 peer, downgrading RESP3 types the way Redis does:
//   - Map becomes a flat array of keys and values, Set and Push become arrays;
//   - Null becomes the null bulk string "$-1";
//   - Boolean becomes the integer 1 or 0;
//   - Double ("inf", "-inf", "nan" or a decimal), BigNumber and Verbatim (its payload,
//     without the format) become bulk strings;
//   - BulkError becomes a simple error (CR and LF replaced by spaces);
//   - attributes are dropped, and a Value of TypeAttribute is not written at all.
//
// SimpleString, Error, Integer, BulkString and Array are written as by [AppendValue].
func AppendValueRESP2(dst []byte, v Value) []byte {
	return appendValueRESP2(dst, &v)
}

func appendValueRESP2(dst []byte, v *Value) []byte {
	switch v.Type {
	case TypeSimpleString:
		return appendLine(dst, '+', v.Str)
	case TypeError, TypeBulkError:
		return appendLine(dst, '-', v.errMsg())
	case TypeInteger:
		return appendHeader(dst, ':', v.Int)
	case TypeBoolean:
		return appendHeader(dst, ':', int64(b2i(v.Int != 0)))
	case TypeBulkString, TypeBigNumber, TypeVerbatim:
		return AppendBulk(dst, v.Str)
	case TypeDouble:
		var tmp [32]byte
		return AppendBulk(dst, appendFloat(tmp[:0], v.Float))
	case TypeArray, TypeSet, TypePush, TypeMap:
		n := len(v.Elems)
		if v.Type == TypeMap {
			n += n % 2
		}
		dst = appendHeader(dst, '*', int64(n))
		for i := range v.Elems {
			dst = appendValueRESP2(dst, &v.Elems[i])
		}
		if n > len(v.Elems) {
			dst = append(dst, "$-1\r\n"...)
		}
		return dst
	case TypeAttribute:
		return dst
	}
	return append(dst, "$-1\r\n"...)
}
