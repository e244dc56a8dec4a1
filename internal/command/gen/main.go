// Command gen writes table_gen.go, the command table of package command, from the COMMAND
// reply of a redis-server it starts on a free loopback port (redis-server from PATH unless
// -redis-server says otherwise). Run it with go generate ./internal/command, or
// go run ./internal/command/gen from the repository root.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/redline-go/redline/internal/command/internal/cmdgen"
)

func main() {
	out := flag.String("o", "", "output file (default: table_gen.go of package command)")
	bin := flag.String("redis-server", "", "redis-server binary (default: redis-server from PATH)")
	flag.Parse()
	if err := run(*out, *bin); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

func run(out, bin string) error {
	if out == "" {
		var err error
		if out, err = defaultOutput(); err != nil {
			return err
		}
	}
	src, err := cmdgen.Generate(context.Background(), cmdgen.Options{RedisServer: bin})
	if err != nil {
		return err
	}
	return cmdgen.WriteFile(out, src)
}

// defaultOutput is table_gen.go in the package directory: the current directory under
// go generate, internal/command from the repository root.
func defaultOutput() (string, error) {
	if os.Getenv("GOPACKAGE") == "command" {
		return "table_gen.go", nil
	}
	dir := filepath.Join("internal", "command")
	if _, err := os.Stat(filepath.Join(dir, "doc.go")); err != nil {
		return "", fmt.Errorf("run from the repository root, under go generate, or with -o: %w", err)
	}
	return filepath.Join(dir, "table_gen.go"), nil
}
