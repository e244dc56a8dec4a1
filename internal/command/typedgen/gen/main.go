// Command gen writes commands_gen.go, the typed command methods of redline.Client, from
// internal/command/typedgen/spec.txt and the committed command table. It needs no
// server. Run it with go generate . in the repository root, or
// go run ./internal/command/typedgen/gen from there.
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/redline-go/redline/internal/command/internal/cmdgen"
	"github.com/redline-go/redline/internal/command/typedgen"
)

func main() {
	out := flag.String("o", "", "output file (default: "+typedgen.Output+" in the repository root)")
	flag.Parse()
	if err := run(*out); err != nil {
		fmt.Fprintln(os.Stderr, "typedgen:", err)
		os.Exit(1)
	}
}

func run(out string) error {
	if out == "" {
		// go generate runs in the root package's directory; go run from the root too.
		if _, err := os.Stat("generate.go"); err != nil {
			return fmt.Errorf("run from the repository root, under go generate, or with -o: %w", err)
		}
		out = typedgen.Output
	}
	src, err := typedgen.Generate()
	if err != nil {
		return err
	}
	return cmdgen.WriteFile(out, src)
}
