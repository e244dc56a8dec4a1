package topology

import (
	"testing"

	"github.com/redline-go/redline/resp"
)

// Parsing is linear in the number of shards: the allocations for 4,000 shards are
// about four times those for 1,000 (a quadratic step would make them sixteen times).
func TestParseShardsLinear(t *testing.T) {
	for _, parse := range []struct {
		name  string
		reply func(n int) resp.Value
		fn    func(resp.Value, string, bool) (*Table, error)
	}{
		{"SHARDS", func(n int) resp.Value { return shardsReply(true, oneSlotShards(n, 1)...) }, ParseShards},
		{"SLOTS", func(n int) resp.Value { return slotsReply(true, oneSlotShards(n, 1)...) }, ParseSlots},
	} {
		allocs := func(n int) float64 {
			v := parse.reply(n)
			return testing.AllocsPerRun(3, func() {
				if _, err := parse.fn(v, "10.0.0.1:7000", false); err != nil {
					t.Fatal(err)
				}
			})
		}
		small, big := allocs(1000), allocs(4000)
		if big > 5*small {
			t.Errorf("CLUSTER %s: %.0f allocations for 1,000 shards, %.0f for 4,000: not linear", parse.name, small, big)
		}
	}
}
