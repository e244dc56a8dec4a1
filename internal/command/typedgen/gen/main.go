// Command gen writes commands_gen.go, the typed command methods of redline.Client, from
// internal/command/typedgen/spec.txt and the committed command table. It needs no
// server. Run it with go generate . in the repository root, or
// go run ./internal/command/typedgen/gen from there.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"

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
	return writeFile(out, src)
}

// writeFile replaces path with data through a temporary file, so that a failed run never
// leaves a truncated file behind.
func writeFile(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".commands_gen-*.go.tmp")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
