// Package cmdgen generates the command table of package command (table_gen.go) from the
// COMMAND reply of a redis-server that it starts for the purpose. The generator in
// internal/command/gen is a thin wrapper around [Generate]; the package's test calls it too,
// to check that the committed table is up to date.
package cmdgen
