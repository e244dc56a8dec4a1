// Package testkit is the harness this module's timing tests share (the root package's
// and systest's): deadline accounting against a scheduling canary (CallStats), the
// FIGURE lines docs/RELIABILITY.md quotes, the soak switch (`make soak`), a gate that
// runs one heavy test at a time, replayable seeds and the race detector's flag. It is
// for tests only; redistest holds the helpers a user of redline may want too.
package testkit
