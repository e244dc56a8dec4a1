package resp

import (
	"io"
	"runtime"
)

// Length-prefixed payloads: read as their bytes arrive, the small ones of an aggregate
// carved from shared arrays, large ones grown without long unpreemptible copies, and
// discarded ones skipped.

// readBulk reads a payload of n bytes and the CRLF after it. Memory is allocated as the
// bytes arrive: at most bulkChunk ahead of them, so a declared length is never trusted.
// Inside an aggregate (depth > 0), small payloads share backing arrays (see carve).
// Once the value is being discarded, the rest of the payload is skipped and nil returned.
func (r *Reader) readBulk(n int64, depth int) ([]byte, error) {
	if n+2 <= int64(r.br.Buffered()) { // fast path: payload and CRLF already buffered
		b, _ := r.br.Peek(int(n) + 2)
		if b[n] != '\r' || b[n+1] != '\n' {
			return nil, protoErr("bulk payload not followed by CRLF")
		}
		var buf []byte
		switch {
		case r.discard:
		case depth > 0 && n <= slabElem:
			buf = r.carve(b[:n])
		default:
			buf = clone(b[:n])
		}
		_, _ = r.br.Discard(int(n) + 2)
		return buf, nil
	}
	if r.discard {
		return nil, r.skipBytes(n)
	}
	var buf []byte
	if n <= bulkChunk {
		buf = make([]byte, n)
		if _, err := io.ReadFull(r.br, buf); err != nil {
			return nil, eofErr(err, false)
		}
	} else {
		buf = make([]byte, 0, bulkChunk)
		for int64(len(buf)) < n {
			if r.discard { // the owner gave the value up: stop keeping the bytes
				return nil, r.skipBytes(n - int64(len(buf)))
			}
			if len(buf) == cap(buf) {
				// Double; once an eighth has come, believe the rest will (one last
				// allocation of n instead of more doublings and copies).
				c := 2 * int64(cap(buf))
				if 4*c >= n {
					c = n
				}
				buf = growBytes(buf, c)
			}
			// Read at most bulkPiece at a time, so a Discard is seen soon.
			k := len(buf)
			end := min(cap(buf), k+bulkPiece)
			if _, err := io.ReadFull(r.br, buf[k:end]); err != nil {
				return nil, eofErr(err, false)
			}
			buf = buf[:end]
		}
	}
	return buf, r.readCRLF()
}

// carve returns a copy of b (at most slabElem bytes) in the current slab, taking a new
// slab when it does not fit. A slab is sized for the elements the innermost aggregate
// still expects (as long as b) and for the bytes already buffered, at most slabMax. Each
// string's capacity is its length: appending to one copies it instead of overwriting
// its neighbour.
func (r *Reader) carve(b []byte) []byte {
	n := len(b)
	if n == 0 {
		return []byte{}
	}
	if n > cap(r.slab)-len(r.slab) {
		want := int64(n) * min(r.left, slabMax)
		size := int(min(want, int64(r.br.Buffered()), slabMax))
		if size < n {
			size = n
		}
		r.slab = make([]byte, 0, size)
	}
	k := len(r.slab)
	r.slab = append(r.slab, b...)
	return r.slab[k : k+n : k+n]
}

// skipBytes consumes the last n bytes of a payload and the CRLF after it, keeping none.
func (r *Reader) skipBytes(n int64) error {
	for n > 0 {
		k, err := r.br.Discard(int(min(n, 1<<30)))
		n -= int64(k)
		if err != nil {
			return eofErr(err, false)
		}
	}
	return r.readCRLF()
}

// growBytes returns buf with capacity c, copied piece by piece with a yield to the
// scheduler between pieces. A copy is not preemptible: one of hundreds of MiB into
// fresh memory (page faults all the way) held the whole process for up to seconds
// on two busy cores — the garbage collector, waiting to scan this goroutine's stack,
// holds the other P, and timers (every caller's deadline) fire late.
func growBytes(buf []byte, c int64) []byte {
	grown := make([]byte, len(buf), c)
	for i := 0; i < len(buf); i += copyPiece {
		if i > 0 {
			runtime.Gosched()
		}
		copy(grown[i:], buf[i:min(len(buf), i+copyPiece)])
	}
	return grown
}

// growValues is growBytes for the elements of an aggregate.
func growValues(elems []Value, c int64) []Value {
	const piece = copyPiece / 128 // elements (a Value is 120 bytes)
	grown := make([]Value, len(elems), c)
	for i := 0; i < len(elems); i += piece {
		if i > 0 {
			runtime.Gosched()
		}
		copy(grown[i:], elems[i:min(len(elems), i+piece)])
	}
	return grown
}

// readCRLF reads the CRLF that must follow a bulk payload.
func (r *Reader) readCRLF() error {
	b, err := r.br.Peek(2)
	if len(b) >= 1 && b[0] != '\r' || len(b) == 2 && b[1] != '\n' {
		return protoErr("bulk payload not followed by CRLF")
	}
	if err != nil {
		return eofErr(err, false)
	}
	_, _ = r.br.Discard(2)
	return nil
}
