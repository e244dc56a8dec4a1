package conn

import (
	"errors"
	"fmt"
	"strconv"

	"github.com/redline-go/redline/internal/rerr"
	"github.com/redline-go/redline/resp"
)

// Large commands. Encoding a command copies its arguments into the request's buffer:
// for a 50 MiB value that is a 50 MiB allocation and copy, which on a busy machine
// took from 50 ms to over a second, and a copy cannot be interrupted. A command whose
// string and byte-slice arguments add up to largeCommand or more is therefore encoded
// into a buffer sized once, its large arguments copied in chunks of encodeChunk with
// the caller's waiter checked between chunks: the call still ends at its deadline.
const (
	largeCommand = 1 << 20
	encodeChunk  = 256 << 10
)

// errEncoding is the cause for a call whose deadline passed while its command was
// being encoded (nothing was sent).
var errEncoding = errors.New("not sent: the deadline passed while the command was being encoded")

// argBytes returns the bytes of the string and byte-slice arguments of args.
func argBytes(args []any) int {
	n := 0
	for _, a := range args {
		switch a := a.(type) {
		case string:
			n += len(a)
		case []byte:
			n += len(a)
		}
	}
	return n
}

// appendCommand appends one command to r.buf: with resp.AppendCommand, or for a large
// command in chunks between which w is checked (a deadline error when w ends).
func (c *Conn) appendCommand(r *request, w *Waiter, args []any) error {
	size := argBytes(args)
	if size < largeCommand {
		var err error
		r.buf, err = resp.AppendCommand(r.buf, args...)
		return err
	}
	var err error
	if r.buf, err = appendLarge(r.buf, size+64*len(args)+16, w, args); err != nil {
		if errors.Is(err, errEncoding) {
			return w.DeadlineErr(c.nodeErr(rerr.PhaseWrite,
				fmt.Errorf("%w (%s)", errEncoding, byteSize(int64(size))), false))
		}
		return err
	}
	return nil
}

// appendLarge encodes args like resp.AppendCommand into dst grown once to hold size
// more bytes (an upper bound), copying large arguments in chunks and returning
// errEncoding when w ends between two.
func appendLarge(dst []byte, size int, w *Waiter, args []any) ([]byte, error) {
	// Refuse an unsupported type before copying anything, with resp's error. (Without
	// copying args anywhere either: the caller's arguments must not escape to the heap,
	// or every call's boxed arguments would be allocated there.)
	if err := resp.CheckArgs(args); err != nil {
		return dst, err
	}
	if cap(dst)-len(dst) < size {
		grown := make([]byte, len(dst), len(dst)+size)
		copy(grown, dst)
		dst = grown
	}
	dst = resp.AppendArrayHeader(dst, len(args))
	for _, a := range args {
		var err error
		switch a := a.(type) {
		case string:
			dst, err = appendBulkChunked(dst, a, w)
		case []byte:
			dst, err = appendBulkChunked(dst, a, w)
		default: // a number, bool, duration or time: a few bytes
			var tmp [resp.MaxArgText]byte
			dst = resp.AppendBulk(dst, resp.AppendArg(tmp[:0], a))
		}
		if err != nil {
			return dst, err
		}
	}
	return dst, nil
}

// appendBulkChunked appends s as a bulk string, encodeChunk bytes at a time.
func appendBulkChunked[S string | []byte](dst []byte, s S, w *Waiter) ([]byte, error) {
	dst = append(dst, '$')
	dst = strconv.AppendInt(dst, int64(len(s)), 10)
	dst = append(dst, '\r', '\n')
	for len(s) > encodeChunk {
		dst = append(dst, s[:encodeChunk]...)
		s = s[encodeChunk:]
		if w != nil && w.Done() {
			return dst, errEncoding
		}
	}
	dst = append(dst, s...)
	return append(dst, '\r', '\n'), nil
}
