package typedgen

import (
	"strings"
	"testing"

	"github.com/redline-go/redline/internal/command"
)

// TestNumKeysPlus checks the numkeys+ parameter type: numkeys that counts one key toward
// the arity (ZUNION needs numkeys and a key), keys checked by the key specs, the
// share-a-slot note written.
func TestNumKeysPlus(t *testing.T) {
	gen := func(entry string) (string, error) {
		src, err := Source([]byte("## T\n\n"+entry+"\n\tFrob does it.\n"), command.Generated())
		return string(src), err
	}
	if _, err := gen("Frob: ZUNION keys:numkeys -> strings"); err == nil || !strings.Contains(err.Error(), "ZUNION needs at least 3 arguments") {
		t.Fatalf("ZUNION with numkeys: got %v, want the arity error", err)
	}
	src, err := gen("Frob: ZMPOP keys:numkeys+ order:zorder COUNT count:int -> keyzs")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"func (c *Client) Frob(ctx context.Context, keys []string, order ZOrder, count int64) (key string, zs []Z, err error)",
		"args = appendNumKeys(args, keys)",
		"args = append(args, string(order), \"COUNT\", count)",
		"The keys must share a slot",
	} {
		if !strings.Contains(src, want) {
			t.Errorf("generated code lacks %q:\n%s", want, src)
		}
	}
	// The key specs still check where the keys go.
	if _, err := gen("Frob: ZMPOP order:zorder keys:numkeys+ -> keyzs"); err == nil || !strings.Contains(err.Error(), "finds keys at") {
		t.Fatalf("ZMPOP with the keys after MIN: got %v, want the key check's error", err)
	}
}
