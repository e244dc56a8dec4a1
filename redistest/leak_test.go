package redistest

import "testing"

func TestClientFrame(t *testing.T) {
	for fn, want := range map[string]bool{
		"github.com/redline-go/redline.(*Client).Close(0x1)":                         true,
		"github.com/redline-go/redline/internal/conn.(*Conn).readLoop(0xc000)":       true,
		"github.com/redline-go/redline/internal/cluster.(*Engine).sentinelLoop(0x1)": true,
		"github.com/redline-go/redline/redistest.(*Proxy).pump(0x1)":                 false,
		"github.com/redline-go/redline/internal/testkit.StartCanary.func1()":         false,
		"github.com/redline-go/redline/internal/fakeserver.(*Server).serve(0x1)":     false,
		"github.com/redline-go/redline/systest.TestX(0x1)":                           false,
		"github.com/redline-go/redline_test.TestX(0x1)":                              false,
		"github.com/redline-go/redline/redistest_test.TestX(0x1)":                    false,
		"github.com/redline-go/redlinex.F()":                                         false,
		"net/http.(*conn).serve(0x1)":                                                false,
		"\t/work/redline/client.go:51 +0x25":                                         false,
	} {
		if got := clientFrame(fn); got != want {
			t.Errorf("clientFrame(%q) = %v, want %v", fn, got, want)
		}
	}
	if g := ClientGoroutines(); len(g) != 0 {
		t.Errorf("client goroutines in a test that made no client: %q", g)
	}
}
