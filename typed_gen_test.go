package redline

import (
	"bytes"
	"os"
	"regexp"
	"testing"

	"github.com/redline-go/redline/internal/command/typedgen"
	"github.com/redline-go/redline/internal/testkit"
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
		t.Fatalf("%s is stale: run go generate .\n%s", typedgen.Output, testkit.FirstDiff(committed, fresh))
	}
}
