package redline

// The typed command methods (Get, Set, HGetAll, ZRangeWithScores, XRead, …) in
// commands_gen.go are generated from internal/command/typedgen/spec.txt, checked against
// the command table; TestTypedCommandsUpToDate fails while the file is stale.

//go:generate go run ./internal/command/typedgen/gen
