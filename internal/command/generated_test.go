package command_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/redline-go/redline/internal/command"
	"github.com/redline-go/redline/internal/command/internal/cmdgen"
	"github.com/redline-go/redline/internal/testkit"
	"github.com/redline-go/redline/resp"
)

const tableFile = "table_gen.go"

// generate runs the generator against the local redis-server, checking that it leaves no
// temporary directory behind. A missing redis-server fails the test: the table must be
// checked wherever the tests run.
func generate(t *testing.T, opts cmdgen.Options) ([]byte, cmdgen.Reply) {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Fatalf("redis-server is not on PATH: %s", cmdgen.InstallHint)
	}
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	r, err := cmdgen.Fetch(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	infos, err := command.Parse(r.Command)
	if err != nil {
		t.Fatal(err)
	}
	src, err := cmdgen.Source(r.Version, infos)
	if err != nil {
		t.Fatal(err)
	}
	if left, _ := os.ReadDir(tmp); len(left) != 0 {
		t.Errorf("the generator left %v in its temporary directory", left)
	}
	return src, r
}

func TestGeneratedUpToDate(t *testing.T) {
	committed, err := os.ReadFile(tableFile)
	if err != nil {
		t.Fatal(err)
	}
	header := regexp.MustCompile(`^// Code generated .* DO NOT EDIT\.$`)
	if first, _, _ := bytes.Cut(committed, []byte("\n")); !header.Match(first) {
		t.Errorf("%s starts with %q, not the canonical generated-code header", tableFile, first)
	}
	src, r := generate(t, cmdgen.Options{})
	out := filepath.Join(t.TempDir(), tableFile)
	if err := os.WriteFile(out, src, 0o644); err != nil {
		t.Fatal(err)
	}
	fresh, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(fresh, committed) {
		t.Fatalf("%s is stale: run go generate ./internal/command\n"+
			"(the table is from Redis %s, the local redis-server is %s)\n%s",
			tableFile, command.RedisVersion, r.Version, testkit.FirstDiff(committed, fresh))
	}
}

// TestParseRESP2 checks that the RESP2 form of COMMAND parses to the same table.
func TestParseRESP2(t *testing.T) {
	src, r := generate(t, cmdgen.Options{RESP2: true})
	if r.Command.Elems[0].Elems[2].Type != resp.TypeArray {
		t.Fatalf("the reply is not RESP2: flags are a %s", r.Command.Elems[0].Elems[2].Type)
	}
	if committed, _ := os.ReadFile(tableFile); !bytes.Equal(src, committed) {
		t.Errorf("the RESP2 reply gives another table:\n%s", testkit.FirstDiff(committed, src))
	}
}

// TestRoundTrip encodes the table as a COMMAND reply, RESP3 and RESP2, and checks that
// Parse and the generator give back table_gen.go, without a server.
func TestRoundTrip(t *testing.T) {
	committed, err := os.ReadFile(tableFile)
	if err != nil {
		t.Fatal(err)
	}
	var elems []resp.Value
	for _, in := range command.All() {
		elems = append(elems, entry(in))
	}
	reply := resp.Value{Type: resp.TypeArray, Elems: elems}
	for _, enc := range []struct {
		name   string
		encode func([]byte, resp.Value) []byte
	}{{"RESP3", resp.AppendValue}, {"RESP2", resp.AppendValueRESP2}} {
		v, err := resp.NewReader(bytes.NewReader(enc.encode(nil, reply)), resp.Limits{}).ReadValue()
		if err != nil {
			t.Fatal(err)
		}
		infos, err := command.Parse(v)
		if err != nil {
			t.Fatalf("%s: %v", enc.name, err)
		}
		src, err := cmdgen.Source(command.RedisVersion, infos)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(src, committed) {
			t.Errorf("%s round trip differs:\n%s", enc.name, testkit.FirstDiff(committed, src))
		}
	}
}

func TestFetchErrors(t *testing.T) {
	_, err := cmdgen.Fetch(context.Background(), cmdgen.Options{RedisServer: "/nonexistent/redis-server"})
	if !errors.Is(err, cmdgen.ErrNoServer) || !strings.Contains(err.Error(), "make deps") {
		t.Errorf("missing binary: %v", err)
	}
	if _, err := exec.LookPath("false"); err == nil {
		_, err = cmdgen.Fetch(context.Background(), cmdgen.Options{RedisServer: "false"})
		if err == nil || !strings.Contains(err.Error(), "exited") {
			t.Errorf("a server that exits: %v", err)
		}
	}
}

// entry encodes in as Redis 7.0 does in RESP3.
func entry(in *command.Info) resp.Value {
	str := func(s string) resp.Value { return resp.Value{Type: resp.TypeBulkString, Str: []byte(s)} }
	sym := func(s string) resp.Value { return resp.Value{Type: resp.TypeSimpleString, Str: []byte(s)} }
	num := func(n int) resp.Value { return resp.Value{Type: resp.TypeInteger, Int: int64(n)} }
	kv := func(v ...resp.Value) resp.Value { return resp.Value{Type: resp.TypeMap, Elems: v} }
	words := func(t resp.Type, s string) resp.Value {
		v := resp.Value{Type: t, Elems: []resp.Value{}}
		if s != "0" {
			for _, w := range strings.Split(s, "|") {
				v.Elems = append(v.Elems, sym(w))
			}
		}
		return v
	}
	tips := resp.Value{Type: resp.TypeArray, Elems: []resp.Value{}}
	if in.Nondeterministic {
		tips.Elems = append(tips.Elems, str("nondeterministic_output"))
	}
	if in.Request != command.PolicyDefault {
		tips.Elems = append(tips.Elems, str("request_policy:"+in.Request.String()))
	}
	if in.Response != command.ResponseDefault {
		tips.Elems = append(tips.Elems, str("response_policy:"+in.Response.String()))
	}
	specs := resp.Value{Type: resp.TypeArray, Elems: []resp.Value{}}
	for _, s := range in.KeySpecs {
		var bs, fk resp.Value
		switch s.Begin.Kind {
		case command.BeginIndex:
			bs = kv(str("type"), str("index"), str("spec"), kv(str("index"), num(s.Begin.Index)))
		case command.BeginKeyword:
			bs = kv(str("type"), str("keyword"), str("spec"),
				kv(str("keyword"), str(s.Begin.Keyword), str("startfrom"), num(s.Begin.StartFrom)))
		default:
			bs = kv(str("type"), str("unknown"), str("spec"), kv())
		}
		switch s.Find.Kind {
		case command.FindRange:
			fk = kv(str("type"), str("range"), str("spec"), kv(str("lastkey"), num(s.Find.LastKey),
				str("keystep"), num(s.Find.KeyStep), str("limit"), num(s.Find.Limit)))
		case command.FindKeyNum:
			fk = kv(str("type"), str("keynum"), str("spec"), kv(str("keynumidx"), num(s.Find.KeyNumIdx),
				str("firstkey"), num(s.Find.FirstKey), str("keystep"), num(s.Find.KeyStep)))
		default:
			fk = kv(str("type"), str("unknown"), str("spec"), kv())
		}
		specs.Elems = append(specs.Elems, kv(str("flags"), words(resp.TypeSet, s.Flags.String()),
			str("begin_search"), bs, str("find_keys"), fk))
	}
	cats := words(resp.TypeSet, in.Categories.String())
	for i := range cats.Elems {
		cats.Elems[i].Str = append([]byte("@"), cats.Elems[i].Str...)
	}
	subs := resp.Value{Type: resp.TypeArray, Elems: []resp.Value{}}
	for _, s := range in.Subcommands {
		subs.Elems = append(subs.Elems, entry(s))
	}
	return resp.Value{Type: resp.TypeArray, Elems: []resp.Value{
		str(in.Name), num(in.Arity), words(resp.TypeSet, in.Flags.String()),
		num(in.FirstKey), num(in.LastKey), num(in.Step), cats,
		tips, specs, subs,
	}}
}
