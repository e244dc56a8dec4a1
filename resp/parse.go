package resp

import (
	"math"
	"strconv"
)

// Result of parsing a decimal number from the wire.
type numStatus uint8

const (
	numOK       numStatus = iota
	numInvalid            // not a decimal number of the expected form
	numOverflow           // a well-formed number out of the int64 range
)

// parseInt parses an optionally signed decimal int64 from b without converting it to a
// string, as RESP integers allow: [+|-]digits.
func parseInt(b []byte) (int64, numStatus) {
	neg := false
	if len(b) > 0 && (b[0] == '-' || b[0] == '+') {
		neg = b[0] == '-'
		b = b[1:]
	}
	u, st := parseUint(b, neg)
	if st != numOK {
		return 0, st
	}
	if neg {
		return -int64(u), numOK // u <= 1<<63: -int64(1<<63) wraps to MinInt64, as wanted
	}
	return int64(u), numOK
}

// parseUint parses one or more decimal digits into a value no greater than MaxInt64, or
// 1<<63 when neg (the magnitude of MinInt64).
func parseUint(b []byte, neg bool) (uint64, numStatus) {
	if len(b) == 0 {
		return 0, numInvalid
	}
	if len(b) <= 18 { // fast path: 18 digits cannot overflow
		var n uint64
		for _, c := range b {
			if c < '0' || c > '9' {
				return 0, numInvalid
			}
			n = n*10 + uint64(c-'0')
		}
		return n, numOK
	}
	limit := uint64(math.MaxInt64)
	if neg {
		limit++
	}
	var n uint64
	overflow := false
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, numInvalid
		}
		d := uint64(c - '0')
		if n > (limit-d)/10 {
			overflow = true // keep scanning: a later non-digit makes it invalid instead
			continue
		}
		n = n*10 + d
	}
	if overflow {
		return 0, numOverflow
	}
	return n, numOK
}

// parseLen parses a length prefix: digits, or exactly "-1" (returned as -1) when allowNull.
// A sign other than that "-1" is invalid.
func parseLen(b []byte, allowNull bool) (int64, numStatus) {
	if len(b) == 2 && b[0] == '-' && b[1] == '1' && allowNull {
		return -1, numOK
	}
	n, st := parseUint(b, false)
	return int64(n), st
}

// parseDouble parses a RESP3 double: a decimal or exponent form, "inf", "-inf" or "nan"
// (strconv.ParseFloat's syntax, case-insensitive).
func parseDouble(b []byte) (float64, bool) {
	if len(b) == 0 {
		return 0, false
	}
	f, err := strconv.ParseFloat(string(b), 64)
	return f, err == nil
}

// validBigNumber reports whether b is an optionally signed run of one or more digits.
func validBigNumber(b []byte) bool {
	if len(b) > 0 && (b[0] == '-' || b[0] == '+') {
		b = b[1:]
	}
	if len(b) == 0 {
		return false
	}
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// appendFloat appends f the way RESP3 doubles are written: "inf", "-inf", "nan", or the
// shortest decimal form that parses back to f.
func appendFloat(dst []byte, f float64) []byte {
	switch {
	case math.IsInf(f, 1):
		return append(dst, "inf"...)
	case math.IsInf(f, -1):
		return append(dst, "-inf"...)
	case math.IsNaN(f):
		return append(dst, "nan"...)
	}
	return strconv.AppendFloat(dst, f, 'g', -1, 64)
}
