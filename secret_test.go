package redline

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

// The password never shows, however the Options around it are printed: directly, as
// an exported or an unexported field of the caller's struct (fmt cannot call String
// on the latter and prints it field by field), logged with slog, or encoded as JSON.
func TestSecretNeverShown(t *testing.T) {
	const pw = "hunter2-d41d8c"
	o := Options{Addrs: []string{"127.0.0.1:1"}, Username: "u", Password: NewSecret(pw)}
	type exported struct{ Opts Options }
	type unexported struct{ opts Options }
	type embedded struct{ Options }
	type inner struct{ pw Secret }
	values := []any{o, &o, exported{o}, &exported{o}, unexported{o}, &unexported{o}, embedded{o},
		[]Options{o}, map[string]Options{"k": o}, o.Password, inner{o.Password}, &inner{o.Password}}
	var out []string
	for _, v := range values {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d"} {
			out = append(out, fmt.Sprintf(verb, v))
		}
		out = append(out, fmt.Sprint(v), fmt.Sprintln(v))
		var logs bytes.Buffer
		slog.New(slog.NewJSONHandler(&logs, nil)).Info("opts", "v", v, "pw", o.Password)
		slog.New(slog.NewTextHandler(&logs, nil)).Info("opts", "v", v, "pw", o.Password)
		out = append(out, logs.String())
	}
	type config struct {
		Password Secret
		Secrets  map[string]Secret
		pw       Secret
	}
	b, err := json.Marshal(config{Password: o.Password, Secrets: map[string]Secret{"a": o.Password}, pw: o.Password})
	if err != nil {
		t.Fatal(err)
	}
	out = append(out, string(b))
	text, _ := o.Password.MarshalText()
	out = append(out, string(text))
	for _, s := range out {
		if strings.Contains(s, pw) || strings.Contains(s, fmt.Sprintf("%x", pw)) || strings.Contains(s, fmt.Sprintf("%X", pw)) {
			t.Errorf("the password shows: %s", s)
		}
	}
	if !strings.Contains(string(b), `"Password":"[redacted]"`) {
		t.Errorf("JSON: %s", b)
	}
	if o.Password.Reveal() != pw || o.Password.String() != "[redacted]" {
		t.Errorf("Reveal %q, String %q", o.Password.Reveal(), o.Password.String())
	}
	// An empty secret shows as empty; configuration and flags can set one.
	if s := fmt.Sprint(Secret{}); s != "" || !(Secret{}).IsZero() || !NewSecret("").IsZero() {
		t.Errorf("empty secret shows %q", s)
	}
	var c config
	if err := json.Unmarshal([]byte(`{"Password":"from-config"}`), &c); err != nil || c.Password.Reveal() != "from-config" {
		t.Errorf("JSON decode: %v %q", err, c.Password.Reveal())
	}
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	var f Secret
	fs.Var(&f, "pass", "password")
	if err := fs.Parse([]string{"-pass", "from-flag"}); err != nil || f.Reveal() != "from-flag" {
		t.Errorf("flag: %v %q", err, f.Reveal())
	}
}
