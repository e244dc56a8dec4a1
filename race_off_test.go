//go:build !race

package redline

// raceEnabled: see race_on_test.go.
const raceEnabled = false
