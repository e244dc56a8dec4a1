package cluster

import (
	"os"
	"strings"
	"testing"

	"github.com/redline-go/redline/internal/command"
)

// TestConnStateUseCoversTable: every connection-state command of the table has its own
// advice, and the package documentation's table names it.
func TestConnStateUseCoversTable(t *testing.T) {
	doc, err := os.ReadFile("../../doc.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, in := range command.All() {
		for _, x := range append([]*command.Info{in}, in.Subcommands...) {
			if x.ConnState == command.ConnNone || x.Name == "client" {
				continue
			}
			if connStateUse[x.Name] == "" {
				t.Errorf("%s: no advice in connStateUse", x.Name)
			}
			words := strings.Fields(CommandUpper(x.Name))
			if !strings.Contains(string(doc), words[len(words)-1]) {
				t.Errorf("%s: not in the table of doc.go", x.Name)
			}
		}
	}
}
