package hashslot

import (
	"math/rand/v2"
	"strings"
	"testing"
)

// crc16Bitwise is an independent, bit-at-a-time CRC16/XMODEM used as the
// reference for the table-driven implementation.
func crc16Bitwise(b []byte) uint16 {
	var crc uint16
	for _, c := range b {
		crc ^= uint16(c) << 8
		for range 8 {
			if crc&0x8000 != 0 {
				crc = crc<<1 ^ 0x1021
			} else {
				crc <<= 1
			}
		}
	}
	return crc
}

// refSlot is a direct transliteration of keyHashSlot from Redis' cluster.c,
// using the bitwise CRC.
func refSlot(key []byte) int {
	keylen := len(key)
	var s, e int
	for s = 0; s < keylen; s++ {
		if key[s] == '{' {
			break
		}
	}
	if s == keylen {
		return int(crc16Bitwise(key) & 0x3FFF)
	}
	for e = s + 1; e < keylen; e++ {
		if key[e] == '}' {
			break
		}
	}
	if e == keylen || e == s+1 {
		return int(crc16Bitwise(key) & 0x3FFF)
	}
	return int(crc16Bitwise(key[s+1:e]) & 0x3FFF)
}

// plainSlot hashes the whole of s, ignoring hash tags.
func plainSlot(s string) int { return int(crc16Bitwise([]byte(s)) % Count) }

func TestTableMatchesBitwise(t *testing.T) {
	for i := range 256 {
		if got, want := crcTable[i], crc16Bitwise([]byte{byte(i)}); got != want {
			t.Fatalf("crcTable[%#02x] = %#04x, want %#04x", i, got, want)
		}
	}
}

func TestCRC16(t *testing.T) {
	tests := []struct {
		in   string
		want uint16
	}{
		{"", 0x0000},
		{"123456789", 0x31C3}, // CRC-16/XMODEM check value, also in the Redis Cluster spec.
		{"A", 0x58E5},
	}
	for _, tt := range tests {
		if got := CRC16([]byte(tt.in)); got != tt.want {
			t.Errorf("CRC16(%q) = %#04x, want %#04x", tt.in, got, tt.want)
		}
		if got := crc16Bitwise([]byte(tt.in)); got != tt.want {
			t.Errorf("crc16Bitwise(%q) = %#04x, want %#04x", tt.in, got, tt.want)
		}
		if got := crc16String(tt.in); got != tt.want {
			t.Errorf("crc16String(%q) = %#04x, want %#04x", tt.in, got, tt.want)
		}
	}
}

func TestKnownSlots(t *testing.T) {
	// Values as returned by CLUSTER KEYSLOT.
	tests := []struct {
		key  string
		want int
	}{
		{"foo", 12182},
		{"bar", 5061},
		{"hello", 866},
		{"123456789", 0x31C3 % Count},
	}
	for _, tt := range tests {
		if got := Key(tt.key); got != tt.want {
			t.Errorf("Key(%q) = %d, want %d", tt.key, got, tt.want)
		}
		if got := KeyBytes([]byte(tt.key)); got != tt.want {
			t.Errorf("KeyBytes(%q) = %d, want %d", tt.key, got, tt.want)
		}
		if got := refSlot([]byte(tt.key)); got != tt.want {
			t.Errorf("refSlot(%q) = %d, want %d", tt.key, got, tt.want)
		}
	}
}

func TestHashTags(t *testing.T) {
	tests := []struct {
		name   string
		key    string
		hashed string // the part of the key Redis hashes
	}{
		{"empty key", "", ""},
		{"no tag", "foo", "foo"},
		{"tag following", "{user1000}.following", "user1000"},
		{"tag followers", "{user1000}.followers", "user1000"},
		{"empty tag first", "foo{}{bar}", "foo{}{bar}"},
		{"nested open brace", "foo{{bar}}zap", "{bar"},
		{"two tags", "foo{bar}{zap}", "bar"},
		{"only open", "{", "{"},
		{"only close", "}", "}"},
		{"close before open", "}{", "}{"},
		{"empty tag only", "{}", "{}"},
		{"tag is whole key", "{a}", "a"},
		{"unterminated tag", "foo{bar", "foo{bar"},
		{"close before tag", "a}b{c}d", "c"},
		{"tag at end", "prefix{tag}", "tag"},
		{"tag of close brace impossible", "{}}", "{}}"},
		{"single-byte tag", "x{y}z", "y"},
		{"binary nul", "\x00", "\x00"},
		{"binary ff", "\xff", "\xff"},
		{"binary mixed", "\x00\xff\x00\xfe\x01", "\x00\xff\x00\xfe\x01"},
		{"binary tag", "\x00{\x00\xff}\xff", "\x00\xff"},
		{"binary around empty tag", "\xff{}\x00", "\xff{}\x00"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := plainSlot(tt.hashed)
			if ref := refSlot([]byte(tt.key)); ref != want {
				t.Fatalf("refSlot(%q) = %d, but hashing %q gives %d", tt.key, ref, tt.hashed, want)
			}
			if got := Key(tt.key); got != want {
				t.Errorf("Key(%q) = %d, want %d (slot of %q)", tt.key, got, want, tt.hashed)
			}
			if got := KeyBytes([]byte(tt.key)); got != want {
				t.Errorf("KeyBytes(%q) = %d, want %d (slot of %q)", tt.key, got, want, tt.hashed)
			}
		})
	}
	if Key("{user1000}.following") != Key("user1000") || Key("{user1000}.followers") != Key("user1000") {
		t.Error("{user1000}.* keys do not share the slot of user1000")
	}
}

// randKey returns a random key biased towards containing braces.
func randKey(r *rand.Rand) string {
	alphabet := []byte{'{', '}', 'a', 'b', 0x00, 0xff}
	b := make([]byte, r.IntN(24))
	for i := range b {
		if r.IntN(2) == 0 {
			b[i] = alphabet[r.IntN(len(alphabet))]
		} else {
			b[i] = byte(r.IntN(256))
		}
	}
	return string(b)
}

func TestPropertyRandomKeys(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for range 100000 {
		s := randKey(r)
		k, kb := Key(s), KeyBytes([]byte(s))
		if k != kb {
			t.Fatalf("Key(%q) = %d, KeyBytes = %d", s, k, kb)
		}
		if ref := refSlot([]byte(s)); k != ref {
			t.Fatalf("Key(%q) = %d, reference keyHashSlot = %d", s, k, ref)
		}
		if k < 0 || k >= Count {
			t.Fatalf("Key(%q) = %d out of range", s, k)
		}
	}
}

func TestPropertyTaggedKeys(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for range 100000 {
		// A non-empty tag free of '}' and a prefix free of '{' make the
		// tag the one Redis hashes; the suffix is arbitrary.
		tag := strings.ReplaceAll(randKey(r), "}", "")
		if tag == "" {
			tag = "t"
		}
		prefix := strings.ReplaceAll(randKey(r), "{", "")
		suffix := randKey(r)
		key := prefix + "{" + tag + "}" + suffix
		// The tag is hashed verbatim, even if it contains '{'.
		want := plainSlot(tag)
		if !strings.Contains(tag, "{") {
			// With no '{' in it, the tag alone is hashed whole too.
			if got := Key(tag); got != want {
				t.Fatalf("Key(%q) = %d, want %d", tag, got, want)
			}
		}
		if got := Key(key); got != want {
			t.Fatalf("Key(%q) = %d, want slot of tag %q = %d", key, got, tag, want)
		}
		if got := KeyBytes([]byte(key)); got != want {
			t.Fatalf("KeyBytes(%q) = %d, want slot of tag %q = %d", key, got, tag, want)
		}
	}
}

func TestZeroAllocs(t *testing.T) {
	s := "{user1000}.following"
	b := []byte("foo{bar}{zap}")
	var sink int
	if n := testing.AllocsPerRun(100, func() { sink += Key(s) }); n != 0 {
		t.Errorf("Key allocates %v times per call", n)
	}
	if n := testing.AllocsPerRun(100, func() { sink += KeyBytes(b) }); n != 0 {
		t.Errorf("KeyBytes allocates %v times per call", n)
	}
	if n := testing.AllocsPerRun(100, func() { sink += int(CRC16(b)) }); n != 0 {
		t.Errorf("CRC16 allocates %v times per call", n)
	}
	_ = sink
}

func FuzzKey(f *testing.F) {
	for _, s := range []string{"", "foo", "{a}", "foo{}{bar}", "foo{{bar}}zap", "}{", "\x00{\xff}"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		want := refSlot(b)
		if got := KeyBytes(b); got != want {
			t.Fatalf("KeyBytes(%q) = %d, want %d", b, got, want)
		}
		if got := Key(string(b)); got != want {
			t.Fatalf("Key(%q) = %d, want %d", b, got, want)
		}
	})
}

var benchSink int

func BenchmarkKey(b *testing.B) {
	for _, k := range []string{"foo", "{user1000}.following", strings.Repeat("k", 64)} {
		b.Run(benchName(k), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(k)))
			for b.Loop() {
				benchSink += Key(k)
			}
		})
	}
}

func BenchmarkKeyBytes(b *testing.B) {
	for _, k := range []string{"foo", "{user1000}.following", strings.Repeat("k", 64)} {
		kb := []byte(k)
		b.Run(benchName(k), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(kb)))
			for b.Loop() {
				benchSink += KeyBytes(kb)
			}
		})
	}
}

func benchName(k string) string {
	switch {
	case strings.Contains(k, "{"):
		return "tagged"
	case len(k) > 16:
		return "len64"
	default:
		return "short"
	}
}
