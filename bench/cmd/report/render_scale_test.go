package main

import (
	"strings"
	"testing"
)

func TestSpliceScale(t *testing.T) {
	sec := func(body string) string { return scaleBegin + "\n" + body + "\n" + scaleEnd }
	doc := "# Performance\n\n## Micro\n\ntext\n"
	// No section yet: appended.
	got := spliceScale(doc, sec("one"))
	if !strings.HasPrefix(got, doc[:len(doc)-1]) || scaleSection(got) != sec("one") {
		t.Fatalf("append:\n%s", got)
	}
	// Replaced in place, the rest untouched.
	withTail := got + "\n## After\n"
	got2 := spliceScale(withTail, sec("two"))
	if scaleSection(got2) != sec("two") || !strings.HasSuffix(got2, "\n## After\n") || strings.Contains(got2, "one") {
		t.Fatalf("replace:\n%s", got2)
	}
	// A full report without the scale run carries the old section over.
	fresh := "# Performance\n\nnew figures\n"
	carried := spliceScale(fresh, scaleSection(got2))
	if scaleSection(carried) != sec("two") || !strings.Contains(carried, "new figures") {
		t.Fatalf("carry over:\n%s", carried)
	}
	// Nothing to carry: unchanged.
	if spliceScale(fresh, scaleSection(fresh)) != fresh {
		t.Fatal("empty section changed the document")
	}
}
