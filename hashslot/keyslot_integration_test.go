package hashslot_test

import (
	"context"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/redline-go/redline/hashslot"
	"github.com/redline-go/redline/redistest"
)

// TestAgreesWithRedis compares Key with CLUSTER KEYSLOT on a real node for 10,000
// random keys: binary bytes, braces placed to exercise the hash-tag rule.
func TestAgreesWithRedis(t *testing.T) {
	t.Parallel()
	c := redistest.Run(t, redistest.Config{Masters: 1, NoProxy: true})
	n := c.Node(0)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	rng := rand.New(rand.NewPCG(1, 2))
	alphabet := []byte("ab{}\x00\xff")
	for i := range 10000 {
		key := make([]byte, rng.IntN(24))
		for j := range key {
			if rng.IntN(3) == 0 {
				key[j] = alphabet[rng.IntN(len(alphabet))]
			} else {
				key[j] = byte(rng.IntN(256))
			}
		}
		v, err := n.Do(ctx, "CLUSTER", "KEYSLOT", key)
		if err != nil {
			t.Fatalf("key %d %q: %v", i, key, err)
		}
		if got := hashslot.KeyBytes(key); int64(got) != v.Int {
			t.Fatalf("key %q: hashslot %d, redis %d", key, got, v.Int)
		}
		if got := hashslot.Key(string(key)); int64(got) != v.Int {
			t.Fatalf("key %q: hashslot.Key %d, redis %d", key, got, v.Int)
		}
	}
}
