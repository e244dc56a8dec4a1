// Package command is redline's table of Redis commands: for every command and subcommand,
// where its keys are, its flags (readonly, write, blocking...) and its request and
// response tips, which say how a cluster client fans the command out and merges the
// replies.
//
// The table in table_gen.go is generated, never written by hand: the generator in ./gen
// starts a throwaway redis-server, reads its COMMAND reply and parses it with [Parse], the
// same parser a client uses at run time to learn module commands the table lacks. Run
//
//	go generate ./internal/command
//
// after upgrading Redis; a test fails while the committed table differs from what the
// local redis-server reports.
//
// [Lookup] finds a command's [Info] from its arguments without allocating, and
// [Info.KeyIndexes] finds the positions of its keys by its key specs.
package command

//go:generate go run ./gen
