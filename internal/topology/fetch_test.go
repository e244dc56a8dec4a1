package topology

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/redline-go/redline/resp"
)

// fakeExec answers CLUSTER SHARDS and CLUSTER SLOTS from its map (a reply, or an error
// reply when err is set) and records the subcommands asked.
type fakeExec struct {
	replies map[string]resp.Value
	fail    map[string]error
	asked   []string
}

func (f *fakeExec) exec(ctx context.Context, args ...any) (resp.Value, error) {
	sub := args[1].(string)
	f.asked = append(f.asked, sub)
	if err := f.fail[sub]; err != nil {
		return resp.Value{}, err
	}
	v, ok := f.replies[sub]
	if !ok {
		return resp.Value{}, errors.New("fake: unexpected command")
	}
	return v, nil
}

func errReply(msg string) resp.Value {
	return resp.Value{Type: resp.TypeError, Err: resp.ParseError(msg)}
}

var (
	fetchA = tNode{id: strings.Repeat("a", 40), endpoint: "10.0.0.1", port: 7000, offset: 1}
	fetchB = tNode{id: strings.Repeat("b", 40), endpoint: "10.0.0.2", port: 7000, offset: 1}
	full   = tShard{slots: slotsOf([2]int{0, 16383}), nodes: []tNode{fetchA}}
)

func TestFetch(t *testing.T) {
	transport := errors.New("read: connection reset")
	replicaB := fetchB
	replicaB.replica = true
	for _, tc := range []struct {
		name    string
		replies map[string]resp.Value
		fail    map[string]error
		asked   []string
		want    string // describe(table), or the error's text
		refused string // the command a *RefusedError names
	}{
		{name: "shards", replies: map[string]resp.Value{"SHARDS": shardsReply(true, full)},
			asked: []string{"SHARDS"}, want: "10.0.0.1:7000[online] 0-16383\n"},
		{name: "redis 6: unknown subcommand", replies: map[string]resp.Value{
			"SHARDS": errReply("ERR Unknown subcommand or wrong number of arguments for 'SHARDS'. Try CLUSTER HELP."),
			"SLOTS":  slotsReply(false, full)},
			asked: []string{"SHARDS", "SLOTS"}, want: "10.0.0.1:7000 0-16383\n"},
		{name: "unknown command", replies: map[string]resp.Value{
			"SHARDS": errReply("ERR unknown command 'CLUSTER', with args beginning with: 'SHARDS'"),
			"SLOTS":  slotsReply(false, full)},
			asked: []string{"SHARDS", "SLOTS"}, want: "10.0.0.1:7000 0-16383\n"},
		{name: "noperm on shards", replies: map[string]resp.Value{
			"SHARDS": errReply("NOPERM this user has no permissions to run the 'cluster|shards' command"),
			"SLOTS":  slotsReply(false, full)},
			asked:   []string{"SHARDS"},
			want:    "topology: 10.0.0.9:7000 refused CLUSTER SHARDS: NOPERM this user has no permissions to run the 'cluster|shards' command; the ACL user needs cluster|shards (or cluster|slots on Redis < 7)",
			refused: "CLUSTER SHARDS"},
		{name: "other error reply", replies: map[string]resp.Value{
			"SHARDS": errReply("ERR This instance has cluster support disabled"),
			"SLOTS":  slotsReply(false, full)},
			asked:   []string{"SHARDS"},
			want:    "topology: 10.0.0.9:7000 refused CLUSTER SHARDS: ERR This instance has cluster support disabled",
			refused: "CLUSTER SHARDS"},
		{name: "redis 6, noperm on slots", replies: map[string]resp.Value{
			"SHARDS": errReply("ERR Unknown subcommand or wrong number of arguments for 'SHARDS'. Try CLUSTER HELP."),
			"SLOTS":  errReply("NOPERM this user has no permissions to run the 'cluster|slots' command")},
			asked:   []string{"SHARDS", "SLOTS"},
			want:    "topology: 10.0.0.9:7000 refused CLUSTER SLOTS: NOPERM this user has no permissions to run the 'cluster|slots' command; the ACL user needs cluster|slots",
			refused: "CLUSTER SLOTS"},
		{name: "transport failure", fail: map[string]error{"SHARDS": transport},
			asked: []string{"SHARDS"}, want: transport.Error()},
		{name: "transport failure on the fallback", replies: map[string]resp.Value{
			"SHARDS": errReply("ERR unknown subcommand 'SHARDS'")},
			fail:  map[string]error{"SLOTS": transport},
			asked: []string{"SHARDS", "SLOTS"}, want: transport.Error()},
		{name: "demoted master listed as an empty shard", replies: map[string]resp.Value{
			"SHARDS": shardsReply(true, full, tShard{nodes: []tNode{fetchB}}),
			"SLOTS":  slotsReply(false, tShard{slots: full.slots, nodes: []tNode{fetchA, replicaB}})},
			asked: []string{"SHARDS", "SLOTS"}, want: "10.0.0.1:7000 0-16383 <- 10.0.0.2:7000\n"},
		{name: "empty shard, slots agrees it is a primary", replies: map[string]resp.Value{
			"SHARDS": shardsReply(true, full, tShard{nodes: []tNode{fetchB}}),
			"SLOTS":  slotsReply(false, full)},
			asked: []string{"SHARDS", "SLOTS"}, want: "10.0.0.1:7000[online] 0-16383\n10.0.0.2:7000[online] -\n"},
		{name: "empty shard, slots refused", replies: map[string]resp.Value{
			"SHARDS": shardsReply(true, full, tShard{nodes: []tNode{fetchB}}),
			"SLOTS":  errReply("NOPERM no")},
			asked: []string{"SHARDS", "SLOTS"}, want: "10.0.0.1:7000[online] 0-16383\n10.0.0.2:7000[online] -\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := &fakeExec{replies: tc.replies, fail: tc.fail}
			table, err := Fetch(context.Background(), f.exec, "10.0.0.9:7000", false)
			if !slices.Equal(f.asked, tc.asked) {
				t.Errorf("asked %v, want %v", f.asked, tc.asked)
			}
			var got string
			if err != nil {
				got = err.Error()
			} else {
				got = describe(table)
			}
			if got != tc.want {
				t.Errorf("got  %q\nwant %q", got, tc.want)
			}
			var re *RefusedError
			if errors.As(err, &re) != (tc.refused != "") {
				t.Fatalf("error %T %v: RefusedError expected %v", err, err, tc.refused != "")
			}
			if re != nil {
				var se *resp.Error
				if re.Command != tc.refused || re.Addr != "10.0.0.9:7000" || !errors.As(err, &se) || se != re.Err {
					t.Errorf("refused %+v, want command %q and the server's *resp.Error", re, tc.refused)
				}
			}
			if tc.fail != nil && !errors.Is(err, transport) {
				t.Errorf("the transport failure is not returned as it is: %v", err)
			}
		})
	}
}
