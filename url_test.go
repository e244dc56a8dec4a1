package redline

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestParseURL(t *testing.T) {
	for _, tc := range []struct {
		url  string
		want Options
	}{
		{"redis://localhost", Options{Addrs: []string{"localhost:6379"}}},
		{"redis://h:7000/3", Options{Addrs: []string{"h:7000"}, DB: 3}},
		{"redis://h:7000/", Options{Addrs: []string{"h:7000"}}},
		{"redis://[::1]:7000", Options{Addrs: []string{"[::1]:7000"}}},
		{"redis://[::1]", Options{Addrs: []string{"[::1]:6379"}}},
		{"redis://user:p%40ss@h:1", Options{Addrs: []string{"h:1"}, Username: "user", Password: NewSecret("p@ss")}},
		{"redis://:pw@h:1", Options{Addrs: []string{"h:1"}, Password: NewSecret("pw")}},
		{"redis://user@h:1", Options{Addrs: []string{"h:1"}, Username: "user"}},
		{"redis://h1:7000?addr=h2:7001&addr=h3", Options{Addrs: []string{"h1:7000", "h2:7001", "h3:6379"}}},
		{"redis://h:1?db=2&shape=standalone&replica=r1:2&replica=r2:3&read_from=prefer-replica",
			Options{Addrs: []string{"h:1"}, DB: 2, Shape: ShapeStandalone, Replicas: []string{"r1:2", "r2:3"}, ReadFrom: ReadPreferReplica}},
		{"redis://h:1?dial_timeout=500ms&command_timeout=2&reply_timeout=1.5&refresh_interval=-1s&refresh_min_interval=3s",
			Options{Addrs: []string{"h:1"}, DialTimeout: 500 * time.Millisecond, CommandTimeout: 2 * time.Second,
				ReplyTimeout: 1500 * time.Millisecond, RefreshInterval: -time.Second, RefreshMinInterval: 3 * time.Second}},
		{"redis://h:1?max_retries=2&min_retry_backoff=5ms&max_retry_backoff=50ms&protocol=2&client_name=app&split=reads&zone=z1",
			Options{Addrs: []string{"h:1"}, MaxAttempts: 3, RetryBackoff: 5 * time.Millisecond, RetryBackoffMax: 50 * time.Millisecond,
				Protocol: 2, ClientName: "app", Split: SplitReads, Zone: "z1"}},
		{"redis://h:1?max_retries=-1&shape=cluster", Options{Addrs: []string{"h:1"}, MaxAttempts: 1, Shape: ShapeCluster}},
		{"redis://h:1?max_attempts=7&retry_backoff=1ms&retry_backoff_max=2ms", Options{Addrs: []string{"h:1"}, MaxAttempts: 7,
			RetryBackoff: time.Millisecond, RetryBackoffMax: 2 * time.Millisecond}},
	} {
		got, err := ParseURL(tc.url)
		if err != nil {
			t.Errorf("%s: %v", tc.url, err)
			continue
		}
		if got.Password.Reveal() != tc.want.Password.Reveal() {
			t.Errorf("%s: password %q, want %q", tc.url, got.Password.Reveal(), tc.want.Password.Reveal())
		}
		got.Password, tc.want.Password = Secret{}, Secret{}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s:\n got %v\nwant %v", tc.url, got, tc.want)
		}
	}
}

func TestParseURLTLS(t *testing.T) {
	o, err := ParseURL("rediss://h:6380?skip_verify=true")
	if err != nil {
		t.Fatal(err)
	}
	if o.TLSConfig == nil || !o.TLSConfig.InsecureSkipVerify || o.TLSConfig.ServerName != "" || o.TLSConfig.MinVersion == 0 {
		t.Fatalf("TLS config %+v", o.TLSConfig)
	}
	if o, _ = ParseURL("rediss://h:6380"); o.TLSConfig == nil || o.TLSConfig.InsecureSkipVerify {
		t.Fatalf("rediss without skip_verify: %+v", o.TLSConfig)
	}
}

func TestParseURLErrors(t *testing.T) {
	for _, tc := range []struct{ url, want string }{
		{"http://h:1", `scheme "http": want redis, rediss`},
		{"redis+sentinel://h:26379", "names the master in its path"},
		{"redis+sentinel://h:26379/m/x", `want a database number`},
		{"redis+sentinel://h:26379/m?shape=cluster", "leave Shape auto"},
		{"redis+sentinel://h:26379/m?replica=r:1", "the Sentinels name the replicas"},
		{"redis://h:1?sentinel_password=s3cret", "are for redis+sentinel:// URLs"},
		{"redis://", "no host"},
		{"redis:h", "no host"},
		{"redis://h:0", "port out of range"},
		{"redis://h:99999", "port out of range"},
		{"redis://h:1/x", `path "/x": want a database number`},
		{"redis://h:1/-2", "want a database number"},
		{"redis://h:1?timeout=1s&bogus=2", "unknown parameter(s) bogus, timeout"},
		{"redis://h:1?protocol=2&protocol=3", "parameter protocol given 2 times"},
		{"redis://h:1?protocol=x", `parameter protocol="x": not an integer`},
		{"redis://h:1?protocol=4", "Options.Protocol must be 2 or 3"},
		{"redis://h:1?dial_timeout=soon", `parameter dial_timeout="soon": want a duration`},
		{"redis://h:1?dial_timeout=-1s", "Options.DialTimeout must not be negative"},
		{"redis://h:1?command_timeout=2562047h", "Options.CommandTimeout must be at most 8760h0m0s"},
		{"redis://h:1?shape=ring", `parameter shape="ring"`},
		{"redis://h:1?read_from=any", `parameter read_from="any"`},
		{"redis://h:1?split=some", `parameter split="some"`},
		{"redis://h:1?skip_verify=true", "skip_verify is for rediss://"},
		{"rediss://h:1?skip_verify=maybe", "want true or false"},
		{"redis://h:1/2?db=3", "the database is given twice"},
		{"redis://h:1?max_retries=1&max_attempts=2", "give one"},
		{"redis://h:1?retry_backoff=1ms&min_retry_backoff=2ms", "give one"},
		{"redis://h:1?db=1&shape=cluster", "a cluster has only database 0"},
		{"redis://h:1?addr=h2:1&replica=r:1", "Options.Replicas names a standalone server's replicas"},
		{"redis://h:1?addr=h2:0", "port out of range"},
		{"redis://h:1#frag", "fragment"},
		{"redis://user:s3cret@h:x", "not a URL"},
	} {
		o, err := ParseURL(tc.url)
		if !reflect.DeepEqual(o, Options{}) {
			t.Errorf("%s: Options %v returned with the error", tc.url, o)
		}
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want %q", tc.url, err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), "s3cret") {
			t.Errorf("%s: the error shows the password: %v", tc.url, err)
		}
	}
}

// A URL connects as the Options it parses to: a standalone server with its database.
func TestParseURLConnects(t *testing.T) {
	s := standalone(t)
	o, err := ParseURL("redis://" + s.Addr() + "/4?command_timeout=2s&replica=" + s.ReplicaAddrs()[0])
	if err != nil {
		t.Fatal(err)
	}
	c, err := NewClient(t.Context(), o)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if !c.Standalone() {
		t.Fatal("not standalone")
	}
	if err := c.Set(t.Context(), "url:k", "v", nil); err != nil {
		t.Fatal(err)
	}
	defer c.Del(t.Context(), "url:k")
	if v, err := c.Do(t.Context(), "DBSIZE").Int64(); err != nil || v < 1 {
		t.Fatalf("DBSIZE in 4: %d, %v", v, err)
	}
}

func TestParseURLSentinel(t *testing.T) {
	o, err := ParseURL("rediss+sentinel://:pw@s1/mymaster/2?addr=s2:26380&addr=s3&sentinel_username=su&sentinel_password=sp&read_from=prefer-replica&skip_verify=true")
	if err != nil {
		t.Fatal(err)
	}
	sn := o.Sentinel
	if len(o.Addrs) != 0 || o.DB != 2 || o.ReadFrom != ReadPreferReplica || o.Password.Reveal() != "pw" ||
		sn.MasterName != "mymaster" || strings.Join(sn.Addrs, ",") != "s1:26379,s2:26380,s3:26379" ||
		sn.Username != "su" || sn.Password.Reveal() != "sp" {
		t.Fatalf("options %v", o)
	}
	if o.TLSConfig == nil || sn.TLSConfig == nil || o.TLSConfig == sn.TLSConfig || !sn.TLSConfig.InsecureSkipVerify {
		t.Fatalf("TLS: data %+v, Sentinels %+v", o.TLSConfig, sn.TLSConfig)
	}
	if str := o.String(); strings.Contains(str, "pw") || strings.Contains(str, `"sp"`) || !strings.Contains(str, "MasterName") {
		t.Fatalf("String shows the Sentinel password: %s", o)
	}
	o, err = ParseURL("redis+sentinel://s1:1/m")
	if err != nil || o.DB != 0 || o.Sentinel.TLSConfig != nil || o.TLSConfig != nil || o.Sentinel.MasterName != "m" {
		t.Fatalf("plain: %v %v", o, err)
	}
}
