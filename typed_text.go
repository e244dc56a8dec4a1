package redline

import (
	"unsafe"

	"github.com/redline-go/redline/resp"
)

// decodeText is Result.Text for the typed methods (commands_gen.go), which own their
// Result: no one else sees it, so a string reply's bytes can become the returned string
// without a copy (typed Get allocates only its reply, as Do does: TestTypedAllocsPerCall).
//
// It is safe because nothing writes those bytes afterwards: a top-level string reply's
// Str is a fresh copy that aliases no reader buffer (resp.Value.Str), or for OK, QUEUED
// and PONG a read-only array; the Result and its Str never leave the method (hooks see
// only its error). An element of a larger reply (r.elem) may share its reply's backing
// array, which the string would keep alive: that is copied, as Text does.
func decodeText(r Result) (string, error) {
	v, err := r.typed()
	if err != nil {
		return "", err
	}
	switch v.Type {
	case resp.TypeSimpleString, resp.TypeBulkString, resp.TypeVerbatim, resp.TypeBigNumber:
		if !r.elem && len(v.Str) > 0 {
			return unsafe.String(unsafe.SliceData(v.Str), len(v.Str)), nil
		}
	}
	return valueText(v)
}
