package redline

import (
	"fmt"
	"strings"
	"testing"
)

// Regression tests from the review of ParseURL (issue 19).

// A password holding an unescaped '/', '?', '#' or '%' (a common mistake: passwords
// are pasted as they are) splits the URL elsewhere than the user meant, and the error
// must not quote a piece of the password: ParseURL promises "No password ever appears
// in an error".
func TestURLPasswordNotInError(t *testing.T) {
	for _, tc := range []struct{ url, secret string }{
		{"redis://u:sec#ret@h:6379", "sec"},
		{"redis://u:sec?ret@h:6379", "sec"},
		{"redis://u:sec/ret@h:6379", "sec"},
		{"redis://u:1234/secret@h:6379", "secret"},
		{"redis://u:ab%zzcd@h:6379", "%zz"},
		{"redis://h:6379?sentinel_password=x", ""}, // control: no leak expected
		{"redis+sentinel://h/m?sentinel_password=se%zzcret", "%zz"},
		{"redis://u:6379?zq9x@h:6379", "zq9x"}, // a password cut short by '?', the rest a parameter
		{"redis://u:99999?x@h:6379", "99999"},  // … the host's "port" the password's start
		{"redis://u:1234#x@h:6379", "x@h"},     // … by '#'
	} {
		_, err := ParseURL(tc.url)
		if err == nil {
			t.Errorf("%s: no error", tc.url)
			continue
		}
		if tc.secret != "" && strings.Contains(err.Error(), tc.secret) {
			t.Errorf("%s: the error shows part of the password (%q): %v", tc.url, tc.secret, err)
		}
	}
}

// Inputs that should be refused with an error (not accepted as something else).
func TestReviewStdURLRefused(t *testing.T) {
	for _, u := range []string{
		"redis://h:6379?addr=h2:+7000",        // a port Go's dialer cannot use
		"redis://h:6379?addr=h2:0x1B58",       // not a decimal port
		"redis://h:6379?replica=h2:-1",        // negative port
		"redis://h:6379/0?db=",                // db given twice (path and empty db)
		"redis://h:6379?db=-1",                // negative db
		"redis://h:6379?protocol=4",           // no such protocol
		"redis://h:6379?skip_verify=true",     // skip_verify without TLS
		"redis://h:6379?read_from=everywhere", // unknown read_from
		"redis://h:99999",                     // port out of range
		"redis://:6379",                       // no host
		"redis+sentinel://h:26379",            // no master name
		"redis+sentinel://h:26379/m?replica=h2:6379",
		"redis+sentinel://h:26379/m?shape=cluster",
		"redis://h:6379?dial_timeout=1e300", // absurd duration
		"redis://h:6379?command_timeout=-1", // negative timeout
		"unix:///tmp/redis.sock",            // not supported: clear error, not accepted
	} {
		if o, err := ParseURL(u); err == nil {
			t.Errorf("%s: accepted: %v", u, o)
		}
	}
}

// IPv6 hosts and seeds keep their brackets and ports.
func TestReviewStdURLIPv6(t *testing.T) {
	o, err := ParseURL("redis://[::1]:7000?addr=[::1]:7001&addr=[fe80::1%25eth0]:7002")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"[::1]:7000", "[::1]:7001", "[fe80::1%eth0]:7002"}
	if strings.Join(o.Addrs, ",") != strings.Join(want, ",") {
		t.Fatalf("Addrs %v, want %v", o.Addrs, want)
	}
	o, err = ParseURL("redis://[::1]")
	if err != nil || o.Addrs[0] != "[::1]:6379" {
		t.Fatalf("%v %v", o.Addrs, err)
	}
}

// ParseURL never panics, and never reports a password it parsed in its error.
func FuzzReviewStdParseURL(f *testing.F) {
	for _, s := range []string{
		"redis://u:p@h:6379/0?addr=h2:1&read_from=replica-only",
		"rediss://h?skip_verify=true&dial_timeout=0.5",
		"redis+sentinel://:pw@h/m/2?addr=[::1]:26380&sentinel_password=x",
		"redis://[::1]:7000?replica=h:1&shape=standalone",
		"redis://h?max_retries=-1&retry_backoff=1ms",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		o, err := ParseURL(s)
		if err == nil {
			if _, err := o.withDefaults(); err != nil {
				t.Fatalf("%q: accepted, but NewClient would refuse it: %v", s, err)
			}
			return
		}
		if p := o.Password.Reveal(); len(p) >= 4 && strings.Contains(err.Error(), p) {
			t.Fatalf("%q: the password is in the error: %v", s, err)
		}
	})
}

// Neither password — the data nodes' nor the Sentinels' — shows however the Options a
// Sentinel URL gives are printed.
func TestReviewStdOptionsPrintNoSecret(t *testing.T) {
	o, err := ParseURL("rediss+sentinel://u:datapw1@h:26379/m/2?addr=h2&sentinel_username=su&sentinel_password=sentpw2&skip_verify=true")
	if err != nil {
		t.Fatal(err)
	}
	if o.Sentinel.Password.Reveal() != "sentpw2" || o.Password.Reveal() != "datapw1" || o.DB != 2 ||
		len(o.Sentinel.Addrs) != 2 || o.Sentinel.Addrs[1] != "h2:26379" || !o.Sentinel.TLSConfig.InsecureSkipVerify {
		t.Fatalf("parsed %v", o)
	}
	for _, f := range []string{"%v", "%+v", "%#v", "%s"} {
		out := fmt.Sprintf(f, o)
		if strings.Contains(out, "datapw1") || strings.Contains(out, "sentpw2") {
			t.Errorf("%s shows a password: %s", f, out)
		}
		out = fmt.Sprintf(f, o.Sentinel)
		if strings.Contains(out, "sentpw2") {
			t.Errorf("%s of Options.Sentinel shows its password: %s", f, out)
		}
	}
}

// The same Sentinel named twice (easy in a URL: the host and an addr= alike) would vote
// twice: one stale Sentinel then makes a majority of "three". NewClient's validation
// refuses repeated Sentinel addresses (as topology.Single refuses a replica named
// twice).
func TestSentinelAddrsRepeatedRefused(t *testing.T) {
	if o, err := ParseURL("redis+sentinel://10.0.0.1:26379/m?addr=10.0.0.1&addr=10.0.0.2"); err == nil {
		t.Errorf("ParseURL accepted a Sentinel named twice: %v", o.Sentinel.Addrs)
	}
	o := Options{Sentinel: SentinelOptions{Addrs: []string{"10.0.0.1:26379", "10.0.0.1:26379", "10.0.0.2:26379"}, MasterName: "m"}}
	if _, err := o.withDefaults(); err == nil {
		t.Errorf("Options with a Sentinel named twice accepted: %v", o.Sentinel.Addrs)
	}
}
