package testkit

import (
	"fmt"
	"strings"
)

// FirstDiff describes the first line where committed and generated differ, for a test
// that checks a generated file is up to date.
func FirstDiff(committed, generated []byte) string {
	al, bl := strings.Split(string(committed), "\n"), strings.Split(string(generated), "\n")
	for i := 0; i < len(al) || i < len(bl); i++ {
		var x, y string
		if i < len(al) {
			x = al[i]
		}
		if i < len(bl) {
			y = bl[i]
		}
		if x != y || i >= len(al) || i >= len(bl) {
			return fmt.Sprintf("first difference at line %d:\n  committed: %q\n  generated: %q", i+1, x, y)
		}
	}
	return "no difference"
}
