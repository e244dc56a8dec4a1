//go:build redline_nohooks

package redline

// hooksBuilt: see hooks_built.go. This build compiles the command hooks out.
const hooksBuilt = false
