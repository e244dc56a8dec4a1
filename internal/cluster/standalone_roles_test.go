package cluster

import (
	"strings"
	"testing"
	"time"

	"github.com/redline-go/redline/resp"
)

// replHandler is a standalone server whose INFO replication says role, replid and
// (for a replica) its link's state.
func replHandler(role, replid string, linkUp bool) handler {
	return standaloneHandler(nil).wrapInfo(role, replid, linkUp)
}

// wrapInfo answers INFO replication as a server of that role would, the rest as h.
func (h handler) wrapInfo(role, replid string, linkUp bool) handler {
	return func(w *Waiter, args []string, asking bool) (resp.Value, error) {
		if strings.EqualFold(args[0], "INFO") && len(args) > 1 && strings.EqualFold(args[1], "replication") {
			s := "# Replication\r\nrole:" + role + "\r\n"
			if role == "slave" {
				link := "down"
				if linkUp {
					link = "up"
				}
				s += "master_link_status:" + link + "\r\n"
			}
			return bulkV(s + "master_replid:" + replid + "\r\n"), nil
		}
		return h(w, args, asking)
	}
}

// A standalone client's servers are checked at New: a replica given as the server, a
// primary or a replica of another data set given as a replica are refused, naming the
// address; a replica not yet in sync (link down: its replid is its own) or hung is
// taken (a replica down at start does not keep the client from starting).
func TestStandaloneRolesChecked(t *testing.T) {
	for _, tc := range []struct {
		name    string
		primary handler
		replica handler
		want    string // "" accepted
	}{
		{"server is a replica", replHandler("slave", "aaa", true), nil, p1 + " is a replica"},
		{"replica is a primary", replHandler("master", "aaa", false), replHandler("master", "bbb", false), "names " + r1 + ", which is a primary"},
		{"replica of another data set", replHandler("master", "aaa", false), replHandler("slave", "bbb", true), "replicates another data set"},
		{"replica in sync", replHandler("master", "aaa", false), replHandler("slave", "aaa", true), ""},
		{"replica not yet in sync", replHandler("master", "aaa", false), replHandler("slave", "zzz", false), ""},
		{"replica hung", replHandler("master", "aaa", false), hangHandler(r1), ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fc := newFakeCluster(t)
			fc.handle(p1, tc.primary)
			cfg := testConfig(fc)
			if tc.replica != nil {
				fc.handle(r1, tc.replica)
				cfg.Replicas = []string{r1}
			}
			start := time.Now()
			c, err := New(ctxFor(t, time.Second), cfg)
			if err == nil {
				c.Close()
			}
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("error %v; want %q", err, tc.want)
			case time.Since(start) > 800*time.Millisecond:
				t.Fatalf("New took %v (a hung replica is given replicaCheckWait at most)", time.Since(start))
			}
		})
	}
}
