//go:build !redline_nohooks

package redline

// hooksBuilt is false only in a build with the tag redline_nohooks, which compiles the
// command hooks out: BenchmarkHooks compares the two builds to show what an unset hook
// costs (make bench-hooks). Do not use the tag otherwise.
const hooksBuilt = true
