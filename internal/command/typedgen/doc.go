// Package typedgen generates the typed command methods of redline's Client
// (commands_gen.go in the repository root) from spec.txt, a table of one entry per
// method: its name, the command and arguments it sends, the kind of reply it decodes and
// its doc comment.
//
// Every entry is checked against the command table of package command, the one generated
// from redis-server's COMMAND: the command (and subcommand) must exist, the arguments
// the method can send must fit the command's arity, and the arguments the method sends as
// keys must be exactly those the command's key specs find. The command's flags and
// request/response tips write the notes of each method's doc comment (read-only,
// blocking, fanned out, split by slot, one slot required). A command the table lacks, newer
// than its Redis version, is checked against newer_commands.json (see newer.go), and
// its entry's doc must name the version that has it ("Redis 7.4+").
//
// Generation needs no server: run
//
//	go generate .
//
// in the repository root (or go run ./internal/command/typedgen/gen). The root package's
// TestTypedCommandsUpToDate fails while the committed commands_gen.go differs from what
// this package generates.
package typedgen
