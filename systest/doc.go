// Package systest holds redline's system tests: the reliability suite (failover,
// partition, restart, resharding, topology storm, blocking commands, hostile servers,
// security, linearizability), the scale tests, the seed scenario and the cluster-event
// tests. They run real clusters (redistest) and fake ones and check the promise end to
// end: every call returns by its deadline, no caller gets another's reply, failures
// name node, phase and cause, and a write whose reply was lost is reported.
//
// The tests use only what a user of redline can: the public API, Stats, the hooks and
// redistest. The package has no code of its own; `make test` runs it like the root
// package's integration tests, and `make soak` runs the reliability suite longer.
package systest
