package command

import (
	"slices"
	"testing"
)

func TestSplittable(t *testing.T) {
	var got []string
	for _, in := range All() {
		for _, c := range append([]*Info{in}, in.Subcommands...) {
			if c.Splittable() {
				got = append(got, c.Name)
			}
		}
	}
	slices.Sort(got)
	if want := []string{"del", "exists", "mget", "mset", "touch", "unlink"}; !slices.Equal(got, want) {
		t.Fatalf("splittable commands %v, want %v", got, want)
	}
	if LookupName("msetnx").Splittable() || (*Info)(nil).Splittable() {
		t.Fatal("msetnx or nil splittable")
	}
}

func TestFansOut(t *testing.T) {
	for name, want := range map[string]bool{
		"dbsize": true, "flushall": true, "keys": true, "script|load": true, "config|set": true,
		"info": false, "get": false, "mget": false, "ping": true,
	} {
		in := LookupName(name)
		if name == "script|load" {
			in = LookupName("script").Subcommand("load")
		}
		if name == "config|set" {
			in = LookupName("config").Subcommand("set")
		}
		if in == nil {
			t.Fatalf("%s not in the table", name)
		}
		if in.FansOut() != want {
			t.Errorf("%s: FansOut %v (request %v, response %v), want %v", name, in.FansOut(), in.Request, in.Response, want)
		}
	}
	if (*Info)(nil).FansOut() {
		t.Error("nil fans out")
	}
}
