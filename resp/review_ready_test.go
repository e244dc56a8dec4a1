package resp

import (
	"errors"
	"io"
	"math/rand/v2"
	"strings"
	"testing"
)

// errWouldBlock stands for a socket with nothing more to read: a ReadValue that
// reaches it would have blocked.
var errWouldBlock = errors.New("would block")

// prefixSource returns b (in pieces of at most step bytes), then errWouldBlock.
type prefixSource struct {
	b    []byte
	step int
}

func (p *prefixSource) Read(q []byte) (int, error) {
	if len(p.b) == 0 {
		return 0, errWouldBlock
	}
	n := copy(q[:min(len(q), p.step)], p.b)
	p.b = p.b[n:]
	return n, nil
}

// reviewValue returns a random value, nested up to depth, with attributes now and then.
func reviewValue(rng *rand.Rand, depth int) Value {
	var v Value
	kinds := 10
	if depth <= 0 {
		kinds = 6
	}
	str := func() []byte {
		return []byte(strings.Repeat("ab\r\n", rng.IntN(4)) + strings.Repeat("z", rng.IntN(40)))
	}
	switch rng.IntN(kinds) {
	case 0:
		v = Value{Type: TypeSimpleString, Str: []byte(strings.Repeat("s", rng.IntN(10)+1))}
	case 1:
		v = Value{Type: TypeInteger, Int: rng.Int64() - rng.Int64()}
	case 2:
		v = Value{Type: TypeBulkString, Str: str()}
	case 3:
		v = Value{Type: TypeError, Str: []byte("ERR " + strings.Repeat("e", rng.IntN(10)))}
	case 4:
		v = Value{Type: []Type{TypeNull, TypeBoolean, TypeDouble, TypeBigNumber}[rng.IntN(4)], Int: 1, Float: 1.5, Str: []byte("123")}
	case 5:
		v = Value{Type: []Type{TypeBulkError, TypeVerbatim}[rng.IntN(2)], Str: str(), Format: "txt"}
	default:
		v.Type = []Type{TypeArray, TypeSet, TypeMap, TypePush}[rng.IntN(4)]
		n := rng.IntN(5)
		if v.Type == TypeMap {
			n *= 2
		}
		for range n {
			v.Elems = append(v.Elems, reviewValue(rng, depth-1))
		}
	}
	if rng.IntN(8) == 0 {
		v.Attrs = []Value{{Type: TypeSimpleString, Str: []byte("k")}, reviewValue(rng, 0)}
	}
	return v
}

// Ready agrees with ReadValue (the lone caller's path relies on it: a value Ready
// says is whole is decoded without a read, so a read there would block a caller past
// its deadline or, with its socket deadline passed, kill the connection): for random
// values, every prefix, delivered in random pieces, and random corruptions, a value
// Ready calls whole is decoded without reading further, and a whole value is never
// NotReady while the buffer has room (held).
func TestReviewSoloReadyAgreesWithReadValue(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	const bufSize = 4 << 10
	for i := range 3000 {
		enc := AppendValue(nil, reviewValue(rng, 4))
		if i%3 == 0 && len(enc) > 0 { // corrupt a byte
			enc = append([]byte(nil), enc...)
			enc[rng.IntN(len(enc))] = "\r\n*$:+-?0123|>%"[rng.IntN(15)]
		}
		stream := append(append([]byte(nil), enc...), "+next\r\n"...)
		for cut := 0; cut <= len(stream); cut += 1 + rng.IntN(3) {
			rd := NewReaderSize(&prefixSource{b: stream[:cut], step: 1 + rng.IntN(16)}, bufSize, Limits{})
			var ferr error
			for ferr == nil {
				ferr = rd.Fill()
			}
			if !errors.Is(ferr, errWouldBlock) && !errors.Is(ferr, io.EOF) {
				continue // larger than the buffer: decoded where blocking is allowed
			}
			st := rd.Ready()
			if st == NotReady && cut >= len(enc) && i%3 != 0 {
				t.Fatalf("%q whole (cut %d of %d) but NotReady", stream[:cut], cut, len(enc))
			}
			if st != Ready {
				continue
			}
			if _, err := rd.ReadValue(); errors.Is(err, errWouldBlock) {
				t.Fatalf("%q: Ready, but ReadValue read further (%v)", stream[:cut], err)
			}
		}
	}
}
