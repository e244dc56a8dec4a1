package redline

import (
	"crypto/tls"
	"strings"
	"testing"
)

// The Sentinels' connections get the Sentinel options' auth and TLS, never the data
// nodes'; bad combinations fail before anything is dialed.
func TestSentinelOptions(t *testing.T) {
	stls := &tls.Config{ServerName: "sentinel"}
	o := Options{
		Username: "data", Password: NewSecret("datapw"), TLSConfig: &tls.Config{ServerName: "data"},
		Sentinel: SentinelOptions{Addrs: []string{"s:26379"}, MasterName: "m", Username: "sent", Password: NewSecret("sentpw"), TLSConfig: stls},
	}
	d, err := o.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	cfg := d.engineConfig()
	sc := cfg.Sentinel
	if sc == nil || sc.MasterName != "m" || sc.Addrs[0] != "s:26379" || sc.Conn.Username != "sent" ||
		sc.Conn.Password.Reveal() != "sentpw" || sc.Conn.TLS != stls || sc.Conn.DB != 0 || sc.Conn.ReadOnly {
		t.Fatalf("Sentinel config %+v", sc)
	}
	if cfg.Username != "data" || cfg.Password.Reveal() != "datapw" || cfg.TLS.ServerName != "data" {
		t.Fatalf("data config changed: %+v", cfg)
	}
	if s := d.String(); strings.Contains(s, "sentpw") || strings.Contains(s, "datapw") {
		t.Fatalf("String shows a password: %s", s)
	}
	plain, _ := Options{Addrs: []string{"h:1"}}.withDefaults()
	if plain.engineConfig().Sentinel != nil {
		t.Fatal("Sentinel on without MasterName")
	}
	for _, tc := range []struct {
		o    Options
		want string
	}{
		{Options{Sentinel: SentinelOptions{MasterName: "m"}}, "at least one Sentinel address"},
		{Options{Sentinel: SentinelOptions{Addrs: []string{"s:1"}}}, "MasterName is required"},
		{Options{Sentinel: SentinelOptions{Addrs: []string{"s"}, MasterName: "m"}}, `"s" is not host:port`},
		{Options{Addrs: []string{"h:1"}, Sentinel: SentinelOptions{Addrs: []string{"s:1"}, MasterName: "m"}}, "both set"},
		{Options{Replicas: []string{"r:1"}, Sentinel: SentinelOptions{Addrs: []string{"s:1"}, MasterName: "m"}}, "the Sentinels name the replicas"},
		{Options{Shape: ShapeStandalone, Sentinel: SentinelOptions{Addrs: []string{"s:1"}, MasterName: "m"}}, "leave Shape auto"},
		{Options{}, "at least one seed address is required"},
		{Options{Addrs: []string{"h:1"}, Shape: 9}, "Options.Shape: unknown value 9"},
		{Options{Addrs: []string{"h:1"}, Replicas: []string{"r"}}, `Options.Replicas: "r" is not host:port`},
		{Options{Addrs: []string{"h:1", "h:2"}, Shape: ShapeStandalone}, "a standalone server is given alone"},
		{Options{Addrs: []string{"h:1"}, Replicas: []string{"r:1"}, Shape: ShapeCluster}, "Options.Shape is cluster"},
	} {
		if _, err := tc.o.withDefaults(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: error %v, want %q", tc.o, err, tc.want)
		}
	}
	if s, err := ParseShape("standalone"); err != nil || s != ShapeStandalone || s.String() != "standalone" {
		t.Fatalf("ParseShape: %v %v", s, err)
	}
	if _, err := ParseShape("ring"); err == nil {
		t.Fatal("ParseShape accepted ring")
	}
}
