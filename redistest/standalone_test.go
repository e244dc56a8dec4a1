package redistest

import (
	"context"
	"strings"
	"testing"
	"time"
)

func TestStandaloneStarts(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	s, err := StartStandalone(ctx, Config{ReplicasPerMaster: 1, Password: "pw"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	v, err := s.Primary().Do(ctx, "INFO", "cluster")
	if err != nil || !strings.Contains(string(v.Str), "cluster_enabled:0") {
		t.Fatalf("INFO cluster: %v %v", v.Str, err)
	}
	if role, err := s.Replicas()[0].Role(ctx); err != nil || role != "slave" {
		t.Fatalf("replica role %q %v", role, err)
	}
	if _, err := s.Primary().Do(ctx, "SET", "k", "v"); err != nil {
		t.Fatal(err)
	}
	if len(s.ReplicaAddrs()) != 1 || s.Addr() == s.ReplicaAddrs()[0] || s.Password() != "pw" {
		t.Fatalf("addrs %s %v", s.Addr(), s.ReplicaAddrs())
	}
	if _, err := StartStandalone(ctx, Config{Masters: 2}); err == nil {
		t.Fatal("two masters accepted")
	}
}
