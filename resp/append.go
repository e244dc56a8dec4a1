package resp

import (
	"strconv"
)

// AppendCommand appends a command, an array of bulk strings, to dst and returns the
// extended buffer. Each argument may be a string, []byte, int, int8..int64, uint,
// uint8..uint64, float32 or float64 (formatted with strconv 'f', -1: 1.5, -0.25, +Inf), bool
// ("1" or "0"), time.Duration (nanoseconds) or time.Time (RFC3339Nano), sent as AppendArg
// formats it (see CheckArgs; ExpandArgs converts slices and encoding.BinaryMarshaler). Any other type is an *ArgTypeError naming the
// argument's index and type, and dst is returned unchanged. It does not allocate when dst
// has enough capacity.
func AppendCommand(dst []byte, args ...any) ([]byte, error) {
	if err := CheckArgs(args); err != nil {
		return dst, err
	}
	dst = AppendArrayHeader(dst, len(args))
	for _, a := range args {
		switch a := a.(type) {
		case string:
			dst = AppendBulkString(dst, a)
		case []byte:
			dst = AppendBulk(dst, a)
		default:
			dst = appendBulkArg(dst, a)
		}
	}
	return dst, nil
}

// AppendCommandStrings appends a command made of string arguments, an array of bulk
// strings, to dst. It does not allocate when dst has enough capacity.
func AppendCommandStrings(dst []byte, args ...string) []byte {
	dst = AppendArrayHeader(dst, len(args))
	for _, a := range args {
		dst = AppendBulkString(dst, a)
	}
	return dst
}

// AppendArrayHeader appends the header of an array of n elements, "*n\r\n"; the caller
// appends the n elements after it.
func AppendArrayHeader(dst []byte, n int) []byte {
	return appendHeader(dst, '*', int64(n))
}

// AppendBulk appends b as a bulk string.
func AppendBulk(dst []byte, b []byte) []byte {
	dst = appendHeader(dst, '$', int64(len(b)))
	dst = append(dst, b...)
	return append(dst, '\r', '\n')
}

// AppendBulkString appends s as a bulk string.
func AppendBulkString(dst []byte, s string) []byte {
	dst = appendHeader(dst, '$', int64(len(s)))
	dst = append(dst, s...)
	return append(dst, '\r', '\n')
}

// AppendBulkInt appends the decimal form of n as a bulk string, as command arguments are
// sent ("$2\r\n42\r\n"). Use [AppendInt] for an integer reply.
func AppendBulkInt(dst []byte, n int64) []byte {
	var tmp [20]byte
	return AppendBulk(dst, strconv.AppendInt(tmp[:0], n, 10))
}

// AppendSimpleString appends s as a simple string reply, "+s\r\n". CR and LF in s are
// replaced by spaces so that s cannot break the framing.
func AppendSimpleString(dst []byte, s string) []byte {
	return appendLine(dst, '+', s)
}

// AppendError appends msg as a simple error reply, "-msg\r\n", such as
// "ERR unknown command" or "MOVED 3999 127.0.0.1:6381". CR and LF in msg are replaced by
// spaces so that msg cannot break the framing.
func AppendError(dst []byte, msg string) []byte {
	return appendLine(dst, '-', msg)
}

// AppendInt appends n as an integer reply, ":n\r\n".
func AppendInt(dst []byte, n int64) []byte {
	return appendHeader(dst, ':', n)
}

// AppendNull appends a null reply: "$-1\r\n" (the RESP2 null bulk string) when proto is 2
// or less, "_\r\n" otherwise.
func AppendNull(dst []byte, proto int) []byte {
	if proto <= 2 {
		return append(dst, "$-1\r\n"...)
	}
	return append(dst, "_\r\n"...)
}

// appendHeader appends a type byte, a decimal number and CRLF.
func appendHeader(dst []byte, t byte, n int64) []byte {
	switch {
	case 0 <= n && n < 10: // the counts and the lengths of most commands' names and keys (no strconv call)
		return append(dst, t, byte('0'+n), '\r', '\n')
	case 10 <= n && n < 100:
		return append(dst, t, byte('0'+n/10), byte('0'+n%10), '\r', '\n')
	case 100 <= n && n < 1000:
		return append(dst, t, byte('0'+n/100), byte('0'+n/10%10), byte('0'+n%10), '\r', '\n')
	case 1000 <= n && n < 10000: // the lengths of values up to 10 KB
		return append(dst, t, byte('0'+n/1000), byte('0'+n/100%10), byte('0'+n/10%10), byte('0'+n%10), '\r', '\n')
	}
	dst = append(dst, t)
	dst = strconv.AppendInt(dst, n, 10)
	return append(dst, '\r', '\n')
}

// appendLine appends a type byte, s with CR and LF replaced by spaces, and CRLF.
func appendLine[S string | []byte](dst []byte, t byte, s S) []byte {
	dst = append(dst, t)
	start := len(dst)
	dst = append(dst, s...)
	for i := start; i < len(dst); i++ {
		if dst[i] == '\r' || dst[i] == '\n' {
			dst[i] = ' '
		}
	}
	return append(dst, '\r', '\n')
}
