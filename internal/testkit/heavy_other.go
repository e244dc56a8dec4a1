//go:build !unix

package testkit

// lockHeavy locks nothing where flock is missing: heavy tests are then one at a time
// per test binary only.
func lockHeavy() (unlock func()) { return func() {} }
