package redline

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/redline-go/redline/hashslot"
)

func TestGlobMatchTable(t *testing.T) {
	for _, tc := range []struct {
		pattern, key string
		want         bool
	}{
		{"", "", true},
		{"", "a", false},
		{"*", "", true},
		{"*", "anything", true},
		{"a*", "a", true},
		{"a*b", "axxb", true},
		{"a*b", "axxbc", false},
		{"a**b*", "ab", true},
		{"?", "", false},
		{"?", "x", true},
		{"h?llo", "hello", true},
		{"h?llo", "hllo", false},
		{"h[ae]llo", "hallo", true},
		{"h[ae]llo", "hillo", false},
		{"h[^e]llo", "hallo", true},
		{"h[^e]llo", "hello", false},
		{"h[a-b]llo", "hbllo", true},
		{"h[b-a]llo", "hbllo", true}, // ends in either order
		{"h[a-b]llo", "hcllo", false},
		{`h\*llo`, "h*llo", true},
		{`h\*llo`, "hallo", false},
		{`[\]]`, "]", true},
		{`[\-]`, "-", true},
		{"[a-]", "]", true},  // a range from a to ]
		{"[a-]", "-", false}, // ... so - is not in the set
		{"[abc", "a", true},  // unclosed: ends the pattern
		{"[abc", "ab", false},
		{"a[", "a", false},
		{"a[", "ab", false}, // an empty unclosed set matches nothing
		{"**", "", false},   // only "*" itself is special-cased for the empty key
		{"[^", "x", true},
		{`\`, `\`, true},
		{`a\`, `a\`, true},
		{"*a", "ba", true},
		{"[\x80-\xff]", "\x90", true}, // bytes compare as signed chars
		{"[a-\xff]", "b", false},      // \xff is -1: the range is -1..'a'
		{"[a-\xff]", "\x00", true},
		{"{user:1}:*", "{user:1}:name", true},
		{strings.Repeat("*a", 50) + "b", strings.Repeat("a", 60), false}, // no exponential time
	} {
		if got := globMatch(tc.pattern, tc.key); got != tc.want {
			t.Errorf("globMatch(%q, %q) = %v, want %v", tc.pattern, tc.key, got, tc.want)
		}
	}
}

func TestPatternSlot(t *testing.T) {
	for _, tc := range []struct {
		pattern string
		tag     string // "" when no slot is fixed
	}{
		{"{user:1}:*", "user:1"},
		{"{user:1}", "user:1"},
		{"x{a}*", "a"},
		{`\{a}*`, "a"},
		{`{a\}}*`, "a"}, // an escaped } is a } in the key too
		{"{}*", ""},
		{"{a*}", ""},
		{"*{a}", ""},
		{"{a", ""},
		{"user:*", ""},
		{"", ""},
		{"[{]a}", ""},
	} {
		slot, ok := patternSlot(tc.pattern)
		if ok != (tc.tag != "") || ok && slot != hashslot.Key(tc.tag) {
			t.Errorf("patternSlot(%q) = %d %v, want the slot of tag %q", tc.pattern, slot, ok, tc.tag)
		}
	}
}

// FuzzGlobMatch checks that matching never panics and that a pattern that fixes a slot
// matches only keys of that slot.
func FuzzGlobMatch(f *testing.F) {
	f.Add("{a}*", "{a}b")
	f.Add("[a-", "a")
	f.Add(`\`, "x")
	f.Fuzz(func(t *testing.T, pattern, key string) {
		if len(pattern) > 200 {
			return
		}
		m := globMatch(pattern, key)
		if slot, ok := patternSlot(pattern); ok && m && hashslot.Key(key) != slot {
			t.Fatalf("%q matches %q of slot %d, not the pattern's slot %d", pattern, key, hashslot.Key(key), slot)
		}
	})
}

// TestGlobMatchAgreesWithRedis compares globMatch with the server's KEYS on random
// patterns and keys made of the bytes that matter to globs.
func TestGlobMatchAgreesWithRedis(t *testing.T) {
	scanClusterMu.Lock()
	defer scanClusterMu.Unlock()
	cl := scanCluster(t)
	ctx := t.Context()
	c := newTestClient(t, cl, Options{})
	const alphabet = "ab-z[]^*?\\\x80\xff"
	rng := rand.New(rand.NewPCG(1, 2))
	word := func(maxLen int) string {
		b := make([]byte, rng.IntN(maxLen+1))
		for i := range b {
			b[i] = alphabet[rng.IntN(len(alphabet))]
		}
		return string(b)
	}
	keySet := map[string]bool{}
	for len(keySet) < 300 {
		keySet[word(6)] = true
	}
	var keys []string
	for k := range keySet {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	scanFillKeys(t, ctx, cl, c, keys)
	masters := scanMasters(t, ctx, cl)
	patterns := []string{"*", "a*", "[a-]", "[^a]*", `\*`, "[", "[]", "[]a]*", "[\\]]*", "*[\x80-\xff]*", "[z-a]?"}
	for range 300 {
		patterns = append(patterns, word(8))
	}
	for _, p := range patterns {
		var server []string
		for _, n := range masters {
			v, err := n.Do(ctx, "KEYS", p)
			if err != nil {
				t.Fatalf("KEYS %q: %v", p, err)
			}
			for _, e := range v.Elems {
				server = append(server, string(e.Str))
			}
		}
		var mine []string
		for _, k := range keys {
			if globMatch(p, k) {
				mine = append(mine, k)
			}
		}
		slices.Sort(server)
		if !slices.Equal(server, mine) {
			var onlyServer, onlyMine []string
			for _, k := range server {
				if !slices.Contains(mine, k) {
					onlyServer = append(onlyServer, k)
				}
			}
			for _, k := range mine {
				if !slices.Contains(server, k) {
					onlyMine = append(onlyMine, k)
				}
			}
			t.Errorf("pattern %q: only the server matches %q, only globMatch %q", p, onlyServer, onlyMine)
		}
	}
}
