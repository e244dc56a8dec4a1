package topology

import (
	"bytes"
	"testing"

	"github.com/redline-go/redline/resp"
)

func benchParse(b *testing.B, v resp.Value, parse func(resp.Value, string, bool) (*Table, error)) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := parse(v, "10.0.0.1:7000", false); err != nil {
			b.Fatal(err)
		}
	}
}

// 1,000 shards of a primary and a replica each, 16 or 17 slots per shard.
func BenchmarkParseShards1000(b *testing.B) {
	benchParse(b, shardsReply(true, oneSlotShards(1000, 1)...), ParseShards)
}

// 16,384 shards of one slot and one node each: the largest fully covered reply.
func BenchmarkParseShards16384(b *testing.B) {
	benchParse(b, shardsReply(true, oneSlotShards(16384, 0)...), ParseShards)
}

func BenchmarkParseSlots1000(b *testing.B) {
	benchParse(b, slotsReply(true, oneSlotShards(1000, 1)...), ParseSlots)
}

func BenchmarkParseSlots16384(b *testing.B) {
	benchParse(b, slotsReply(true, oneSlotShards(16384, 0)...), ParseSlots)
}

// Decoding the wire bytes and parsing, as a refresh does: 1,000 shards in RESP3.
func BenchmarkDecodeAndParseShards1000(b *testing.B) {
	raw := resp.AppendValue(nil, shardsReply(true, oneSlotShards(1000, 1)...))
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	rd := resp.NewReader(nil, resp.Limits{})
	for b.Loop() {
		rd.Reset(bytes.NewReader(raw))
		v, err := rd.ReadValue()
		if err != nil {
			b.Fatal(err)
		}
		if _, err := ParseShards(v, "10.0.0.1:7000", false); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSlot(b *testing.B) {
	tab, err := ParseShards(shardsReply(true, oneSlotShards(1000, 1)...), "10.0.0.1:7000", false)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	var s *Shard
	i := 0
	for b.Loop() {
		s = tab.Slot(i & 16383)
		i += 7919
	}
	_ = s
}

func BenchmarkWithMoved(b *testing.B) {
	tab, err := ParseShards(shardsReply(true, oneSlotShards(1000, 1)...), "10.0.0.1:7000", false)
	if err != nil {
		b.Fatal(err)
	}
	to := tab.Primaries()[500].Addr
	b.ReportAllocs()
	for b.Loop() {
		tab.WithMoved(3, to)
	}
}

func BenchmarkEqual(b *testing.B) {
	v := shardsReply(true, oneSlotShards(1000, 1)...)
	t1, _ := ParseShards(v, "10.0.0.1:7000", false)
	t2, _ := ParseShards(v, "10.0.0.1:7000", false)
	b.ReportAllocs()
	for b.Loop() {
		if !t1.Equal(t2) {
			b.Fatal("not equal")
		}
	}
}
