package cluster

import (
	"testing"
	"time"

	"github.com/redline-go/redline/internal/command"
)

// TestBlockingWaitParse: each blocking command's timeout is read where it is, in its
// unit; XREAD without BLOCK and WAITAOF's name are recognised.
func TestBlockingWaitParse(t *testing.T) {
	t.Parallel()
	forever := blockWait{forever: true, known: true}
	for _, tc := range []struct {
		args   []any
		blocks bool
		want   blockWait
	}{
		{[]any{"BLPOP", "a", "b", "1.5"}, true, blockWait{wait: 1500 * time.Millisecond, known: true, unblock: true}},
		{[]any{"blpop", "a", 0}, true, blockWait{forever: true, known: true, unblock: true}},
		{[]any{"BRPOPLPUSH", "a", "b", int64(2)}, true, blockWait{wait: 2 * time.Second, known: true, unblock: true}},
		{[]any{"BLMOVE", "a", "b", "LEFT", "RIGHT", "0.25"}, true, blockWait{wait: 250 * time.Millisecond, known: true, unblock: true}},
		{[]any{"BLMPOP", "3", "1", "a", "LEFT", "COUNT", "2"}, true, blockWait{wait: 3 * time.Second, known: true, unblock: true}},
		{[]any{"BZMPOP", 0, "1", "a", "MIN"}, true, blockWait{forever: true, known: true, unblock: true}},
		{[]any{"BZPOPMIN", "a", "x"}, true, blockWait{unblock: true}}, // unparsable: CommandTimeout
		{[]any{"BLPOP", "a", "-1"}, true, blockWait{unblock: true}},
		{[]any{"XREAD", "COUNT", 1, "BLOCK", 250, "STREAMS", "s", "$"}, true, blockWait{wait: 250 * time.Millisecond, known: true, unblock: true}},
		{[]any{"XREAD", "BLOCK", "0", "STREAMS", "s", "$"}, true, blockWait{forever: true, known: true, unblock: true}},
		{[]any{"XREAD", "COUNT", 1, "STREAMS", "BLOCK", "$"}, false, blockWait{}},
		{[]any{"XREADGROUP", "GROUP", "BLOCK", "c", "NOACK", "BLOCK", 10, "STREAMS", "s", ">"}, true, blockWait{wait: 10 * time.Millisecond, known: true, unblock: true}},
		{[]any{"XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", ">"}, false, blockWait{}},
		{[]any{"WAIT", 1, 0}, true, blockWait{forever: true, known: true, ping: true}},
		{[]any{"WAIT", 1, 100}, true, blockWait{wait: 100 * time.Millisecond, known: true, ping: true}},
		{[]any{"WAITAOF", 0, 1, 50}, true, blockWait{wait: 50 * time.Millisecond, known: true, ping: true}},
		{[]any{"GET", "a"}, false, blockWait{}},
		{[]any{"MYMODULE.CMD", "a"}, false, blockWait{}},
	} {
		info := command.Lookup(tc.args)
		got, blocks := blockingWait(info, tc.args)
		if blocks != tc.blocks || got != tc.want {
			t.Errorf("%v: blocks %v %+v, want %v %+v", tc.args, blocks, got, tc.blocks, tc.want)
		}
	}
	// Deadlines: none for a wait without end, the wait plus CommandTimeout otherwise.
	now := time.Now()
	if dl := forever.deadline(now, time.Second); !dl.IsZero() {
		t.Errorf("forever: deadline %v", dl)
	}
	if dl := (blockWait{wait: time.Second, known: true}).deadline(now, 200*time.Millisecond); !dl.Equal(now.Add(1300 * time.Millisecond)) {
		t.Errorf("1s: deadline %v after now", dl.Sub(now))
	}
	if dl := (blockWait{}).deadline(now, 200*time.Millisecond); !dl.Equal(now.Add(200 * time.Millisecond)) {
		t.Errorf("unknown: deadline %v after now", dl.Sub(now))
	}
}
