package redline

import (
	"testing"
	"time"

	"github.com/redline-go/redline/internal/conn"
	"github.com/redline-go/redline/internal/node"
)

// TestDefaultsAgreeWithLowerLayers: a zero option means the same below the client as in
// it (the dial timeout was 2s here and 5s in the node layer), and the values are the
// documented ones.
func TestDefaultsAgreeWithLowerLayers(t *testing.T) {
	for _, tc := range []struct {
		name               string
		client, lower, doc time.Duration
	}{
		{"DialTimeout", DefaultDialTimeout, node.DefaultDialTimeout, 2 * time.Second},
		{"ReplyTimeout", DefaultReplyTimeout, conn.DefaultReplyTimeout, 3 * time.Second},
	} {
		if tc.client != tc.lower || tc.client != tc.doc {
			t.Errorf("%s: client default %v, lower layer's %v, documented %v", tc.name, tc.client, tc.lower, tc.doc)
		}
	}
	o, err := Options{Addrs: []string{"127.0.0.1:7000"}}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	if proto := conn.DefaultProtocol; o.Protocol != proto || proto != 3 {
		t.Errorf("Protocol: client default %d, connection layer's %d, documented 3", o.Protocol, proto)
	}
}
