package main

import (
	"bytes"
	"strings"
	"testing"
)

// TestDemoShapes runs `redline demo shapes`: the one program succeeds on a cluster, a
// standalone server and a Sentinel set, and writes resume after the Sentinel set's
// primary is killed.
func TestDemoShapes(t *testing.T) {
	t.Parallel()
	var out, errb bytes.Buffer
	if code := run(t.Context(), []string{"demo", "shapes"}, strings.NewReader(""), &out, &errb); code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out.String(), errb.String())
	}
	for _, shape := range []string{"cluster", "standalone", "sentinel"} {
		want := "  " + shape
		found := false
		for _, line := range strings.Split(out.String(), "\n") {
			if strings.HasPrefix(line, want) && strings.Contains(line, `SUBSCRIBE got "hi"`) && strings.Contains(line, "visits=1") {
				found = true
			}
		}
		if !found {
			t.Errorf("no successful %s line in:\n%s", shape, out.String())
		}
	}
	if !strings.Contains(out.String(), "writes resumed on the promoted replica") {
		t.Errorf("no failover line in:\n%s", out.String())
	}
}
