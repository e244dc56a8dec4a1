package main

import "strings"

// The markers of the client-side caching section, written by cmd/cachebench (its own
// run); the report carries it over from the file it replaces.
const (
	cacheBegin = "<!-- cache:begin"
	cacheEnd   = "<!-- cache:end -->"
)

// carryCache appends old's caching section (markers included) to md, if old has one
// and md does not.
func carryCache(md, old string) string {
	i, j := strings.Index(old, cacheBegin), strings.Index(old, cacheEnd)
	if i < 0 || j < i || strings.Contains(md, cacheBegin) {
		return md
	}
	return strings.TrimRight(md, "\n") + "\n\n" + old[i:j+len(cacheEnd)] + "\n"
}
