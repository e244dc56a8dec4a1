package redline

import (
	"testing"
)

const nodesText = `07c37dfeb235213a872192d90877d0cd55635b91 127.0.0.1:30004@31004,host-a slave e7d1eecce10fd6bb5eb35b9f99a514335d9ba9ca 0 1426238317239 4 connected
67ed2db8d677e59ec4a4cefb06858cf2a1a89fa1 127.0.0.1:30002@31002 master - 0 1426238316232 2 connected 5461-10922
292f8b365bb7edb5e285caf0b7e6ddc7265d2f4f 127.0.0.1:30003@31003 master,fail - 0 1426238318243 3 connected 10923-16383
e7d1eecce10fd6bb5eb35b9f99a514335d9ba9ca 127.0.0.1:30001@31001 myself,master - 0 0 1 connected 0-5459 5460 [5460->-67ed2db8d677e59ec4a4cefb06858cf2a1a89fa1] [5461-<-67ed2db8d677e59ec4a4cefb06858cf2a1a89fa1]
6ec23923021cf3ffec47632106199cb7f496ce01 :0@0 master,noaddr - 0 0 5 disconnected
`

func TestParseNodeView(t *testing.T) {
	v, err := parseNodeView([]byte(nodesText))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		slot int
		owns bool
	}{{0, true}, {5459, true}, {5460, true}, {5461, false}, {16383, false}} {
		if v.owns(tc.slot) != tc.owns {
			t.Errorf("owns(%d) = %v", tc.slot, !tc.owns)
		}
	}
	if id := v.migrate[5460]; id != "67ed2db8d677e59ec4a4cefb06858cf2a1a89fa1" || len(v.migrate) != 1 {
		t.Errorf("migrating: %v", v.migrate)
	}
	if o := v.owner(6000); o != "67ed2db8d677e59ec4a4cefb06858cf2a1a89fa1" {
		t.Errorf("owner(6000) = %q", o)
	}
	if o := v.owner(12000); o != "" { // its owner has failed
		t.Errorf("owner(12000) = %q", o)
	}
	if a := v.addr("07c37dfeb235213a872192d90877d0cd55635b91"); a != "127.0.0.1:30004" {
		t.Errorf("addr = %q", a)
	}
	if a := v.addr("6ec23923021cf3ffec47632106199cb7f496ce01"); a != "" {
		t.Errorf("addr of a node without an address = %q", a)
	}
	replica, err := parseNodeView([]byte("a 127.0.0.1:1@2 myself,slave b 0 0 1 connected\nb 127.0.0.1:3@4 master - 0 0 1 connected 0-16383\n"))
	if err != nil || replica.owns(0) {
		t.Errorf("a replica's view: owns(0) = %v, %v", replica.owns(0), err)
	}
	for _, bad := range []string{"", "garbage", "a b myself,master - 0 0 1 connected 10-5", "a b myself,master - 0 0 1 connected 99999",
		"a b myself,master - 0 0 1 connected [x->-y]"} {
		if _, err := parseNodeView([]byte(bad)); err == nil {
			t.Errorf("parseNodeView(%q): no error", bad)
		}
	}
}
