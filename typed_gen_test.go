package redline

import (
	"bytes"
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/redline-go/redline/internal/command/typedgen"
)

// TestTypedCommandsUpToDate regenerates commands_gen.go in memory from the spec and the
// committed command table (no server needed) and fails while the committed file differs.
func TestTypedCommandsUpToDate(t *testing.T) {
	t.Parallel()
	committed, err := os.ReadFile(typedgen.Output)
	if err != nil {
		t.Fatal(err)
	}
	header := regexp.MustCompile(`^// Code generated .* DO NOT EDIT\.$`)
	if first, _, _ := bytes.Cut(committed, []byte("\n")); !header.Match(first) {
		t.Errorf("%s starts with %q, not the canonical generated-code header", typedgen.Output, first)
	}
	fresh, err := typedgen.Generate()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(fresh, committed) {
		t.Fatalf("%s is stale: run go generate .\n%s", typedgen.Output, lineDiff(committed, fresh))
	}
}

// lineDiff describes the first line where a and b differ.
func lineDiff(a, b []byte) string {
	al, bl := strings.Split(string(a), "\n"), strings.Split(string(b), "\n")
	for i := 0; i < len(al) || i < len(bl); i++ {
		var x, y string
		if i < len(al) {
			x = al[i]
		}
		if i < len(bl) {
			y = bl[i]
		}
		if x != y || i >= len(al) || i >= len(bl) {
			return fmt.Sprintf("first difference at line %d:\n  committed: %q\n  generated: %q", i+1, x, y)
		}
	}
	return "no difference"
}
