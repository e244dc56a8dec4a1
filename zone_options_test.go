package redline

import (
	"context"
	"strings"
	"testing"
)

// TestReadLocalZoneOptions: local-zone parses and prints, needs Options.Zone (a clear
// error, not a client that silently reads anywhere), and the zone is printed.
func TestReadLocalZoneOptions(t *testing.T) {
	for r := ReadPrimary; r <= ReadLocalZone; r++ {
		if got, err := ParseReadFrom(r.String()); err != nil || got != r {
			t.Errorf("ParseReadFrom(%q) = %v, %v", r.String(), got, err)
		}
	}
	if ReadLocalZone.String() != "local-zone" {
		t.Errorf("ReadLocalZone prints as %q", ReadLocalZone.String())
	}
	if _, err := ParseReadFrom("zone"); err == nil || !strings.Contains(err.Error(), "local-zone") {
		t.Errorf("unknown name: %v, want the list of names", err)
	}
	_, err := NewClient(context.Background(), Options{Addrs: []string{"127.0.0.1:1"}, ReadFrom: ReadLocalZone})
	if err == nil || !strings.Contains(err.Error(), "Options.Zone") {
		t.Errorf("local-zone without a zone: %v, want an error naming Options.Zone", err)
	}
	o := Options{Addrs: []string{"127.0.0.1:1"}, ReadFrom: ReadLocalZone, Zone: "us-east-1a"}
	if s := o.String(); !strings.Contains(s, "local-zone") || !strings.Contains(s, `"us-east-1a"`) {
		t.Errorf("Options print as %s, want the ReadFrom and the zone", s)
	}
}
