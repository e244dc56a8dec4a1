// Command newercmds writes internal/command/typedgen/newer_commands.json: the
// definitions of commands newer than the command table (Redis 7.0), read from Redis's
// own src/commands/*.json, with where each came from. The typed-method generator checks
// the spec.txt entries of those commands against it (see typedgen's newer.go).
//
// Each argument is ORIGIN=FILE: FILE a src/commands/*.json file of a Redis source tree,
// ORIGIN what to record as its source, "owner/repo@commit:path". From a clone of
// github.com/redis/redis, for instance:
//
//	git -C redis show 74b289a0e12f9f65a6daeec6a66cadc76792f644:src/commands/hexpire.json > /tmp/hexpire.json
//	go run ./internal/command/typedgen/newercmds \
//		redis/redis@74b289a0e12f9f65a6daeec6a66cadc76792f644:src/commands/hexpire.json=/tmp/hexpire.json …
//
// Run it from the repository root (or give -o). The file it writes lists exactly the
// commands given: give them all each time.
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/redline-go/redline/internal/command/typedgen"
)

// about is the About line of the file written.
const about = "Commands newer than the command table (Redis 7.0.15) that spec.txt uses, as Redis's src/commands/*.json define them (origin: the file each was read from); written by go run ./internal/command/typedgen/newercmds. The typed-method generator checks spec.txt entries against them; the client does not read this file."

func main() {
	out := flag.String("o", "internal/command/typedgen/newer_commands.json", "output file")
	flag.Parse()
	if err := run(*out, flag.Args()); err != nil {
		fmt.Fprintln(os.Stderr, "newercmds:", err)
		os.Exit(1)
	}
}

func run(out string, args []string) error {
	if len(args) == 0 {
		return fmt.Errorf("no ORIGIN=FILE arguments")
	}
	var f typedgen.NewerFile
	f.About = about
	for _, a := range args {
		origin, file, ok := strings.Cut(a, "=")
		if !ok || origin == "" || file == "" {
			return fmt.Errorf("%q: want ORIGIN=FILE", a)
		}
		src, err := os.ReadFile(file)
		if err != nil {
			return err
		}
		c, err := convert(origin, src)
		if err != nil {
			return fmt.Errorf("%s: %w", file, err)
		}
		f.Commands = append(f.Commands, c)
	}
	slices.SortFunc(f.Commands, func(a, b typedgen.NewerCommand) int { return strings.Compare(a.Name, b.Name) })
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetIndent("", "  ")
	if err := enc.Encode(f); err != nil {
		return err
	}
	if err := typedgen.CheckNewer(b.Bytes()); err != nil {
		return err
	}
	return os.WriteFile(out, b.Bytes(), 0o644)
}

// def is the part of a src/commands/*.json definition the file keeps.
type def struct {
	Container string                 `json:"container"`
	Since     string                 `json:"since"`
	Arity     *int                   `json:"arity"`
	Flags     []string               `json:"command_flags"`
	ACL       []string               `json:"acl_categories"`
	Tips      []string               `json:"command_tips"`
	KeySpecs  []typedgen.JSONKeySpec `json:"key_specs"`
}

// convert reads one src/commands/*.json file: an object of one command.
func convert(origin string, src []byte) (typedgen.NewerCommand, error) {
	var m map[string]def
	if err := json.Unmarshal(src, &m); err != nil {
		return typedgen.NewerCommand{}, err
	}
	if len(m) != 1 {
		return typedgen.NewerCommand{}, fmt.Errorf("%d commands in the file, want 1", len(m))
	}
	for name, d := range m {
		if d.Arity == nil || d.Since == "" {
			return typedgen.NewerCommand{}, fmt.Errorf("%s: no arity or since", name)
		}
		if d.Container != "" {
			name = d.Container + " " + name
		}
		return typedgen.NewerCommand{Name: strings.ToUpper(name), Since: d.Since, Origin: origin, Arity: *d.Arity,
			Flags: d.Flags, ACL: d.ACL, Tips: d.Tips, KeySpecs: d.KeySpecs}, nil
	}
	panic("unreachable")
}
