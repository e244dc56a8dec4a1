package main

import (
	"context"
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/redline-go/redline/redistest"
)

// TestProbeRestrictedUser: an ACL user that may not PING or INFO anywhere, nor run
// CLUSTER SHARDS on one node, gets "not permitted" for those checks: no PING time, no
// lag, no DIFFERS, no "All nodes healthy" (probe used to show all four).
func TestProbeRestrictedUser(t *testing.T) {
	plain, _, _ := testClusters(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, n := range plain.Nodes() {
		if v, err := n.Do(ctx, "ACL", "SETUSER", "probelim", "on", ">pw", "~*", "+@all", "-ping", "-info"); err != nil || v.Err != nil {
			t.Fatalf("ACL SETUSER: %v %v", v, err)
		}
		defer n.Do(context.Background(), "ACL", "DELUSER", "probelim")
	}
	odd := plain.Node(1)
	if v, err := odd.Do(ctx, "ACL", "SETUSER", "probelim", "-cluster|shards"); err != nil || v.Err != nil {
		t.Fatalf("ACL SETUSER: %v %v", v, err)
	}
	args := []string{"probe", "-c", plain.Node(0).Addr(), "--user", "probelim", "--pass", "pw", "--timeout", "2s"}
	code, out, errs := cli(t, "", args...)
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out, errs)
	}
	if pingTime := regexp.MustCompile(`\d\.\d\dms`); pingTime.MatchString(out) {
		t.Errorf("the report shows a PING time for a PING the user may not run:\n%s", out)
	}
	for _, bad := range []string{"0B", "DIFFERS", "All nodes healthy"} {
		if strings.Contains(out, bad) {
			t.Errorf("the report shows %q for checks the user may not run:\n%s", bad, out)
		}
	}
	for _, want := range []string{"PING on all 3 nodes: NOPERM", "INFO on all 3 nodes: NOPERM",
		"CLUSTER SHARDS on " + odd.Addr() + ": NOPERM", "No problem found in the checks this user may run"} {
		if !strings.Contains(out, want) {
			t.Errorf("the report does not say %q:\n%s", want, out)
		}
	}
	code, out, _ = cli(t, "", append(args, "--json")...)
	var rep probeReport
	if err := json.Unmarshal([]byte(out), &rep); code != 0 || err != nil {
		t.Fatalf("JSON: exit %d, %v\n%s", code, err, out)
	}
	if rep.Complete || !rep.OK || len(rep.Nodes) != 3 {
		t.Errorf("complete %v ok %v nodes %d, want false true 3", rep.Complete, rep.OK, len(rep.Nodes))
	}
	for _, n := range rep.Nodes {
		if n.Ping != notPermitted || n.PingMillis != 0 || n.Offset != nil || n.LagBytes != nil {
			t.Errorf("%s: ping %q %vms offset %v lag %v, want not permitted and no values", n.Addr, n.Ping, n.PingMillis, n.Offset, n.LagBytes)
		}
		if want := "agrees"; n.Addr == odd.Addr() {
			if n.SlotMap != notPermitted {
				t.Errorf("%s: slot map %q, want %q", n.Addr, n.SlotMap, notPermitted)
			}
		} else if n.SlotMap != want {
			t.Errorf("%s: slot map %q, want %q", n.Addr, n.SlotMap, want)
		}
	}
}

// TestProbeBadCertOnlySeed: when the only seed presents an untrusted certificate, probe
// says so and describes it (it used to give the bare handshake error).
func TestProbeBadCertOnlySeed(t *testing.T) {
	_, tlsCl, ca := testClusters(t)
	seed := tlsCl.Node(0)
	if err := seed.SetFault(redistest.TLSBad); err != nil {
		t.Fatal(err)
	}
	defer seed.SetFault(redistest.Pass)
	code, out, errs := cli(t, "", "probe", "-c", seed.Addr(), "--tls", "--cacert", ca, "--timeout", "2s")
	if code != 1 {
		t.Fatalf("exit %d, want 1\n%s%s", code, out, errs)
	}
	for _, want := range []string{"No topology", "unknown authority", "certificate presented", "untrusted"} {
		if !strings.Contains(out, want) {
			t.Errorf("the report does not say %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "NODE") || strings.Contains(out, "redline: redline") {
		t.Errorf("an empty table or a repeated prefix:\n%s", out)
	}
}
