package cluster

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redline-go/redline/resp"
)

// TestReadPrimaryLoadingBacksOff: a read forced to the primary (Trace.ReadPrimary:
// HSCAN/SSCAN/ZSCAN steps) under a replica ReadFrom, answered LOADING by the primary
// (restarted, loading its data), backs off and is retried as under ReadFrom primary —
// not sent to "another node" (the same primary, at once: the attempts were spent in
// microseconds and the call failed).
func TestReadPrimaryLoadingBacksOff(t *testing.T) {
	run := func(rf ReadFrom, forcePrimary bool) (Reply, time.Duration) {
		fc := newFakeCluster(t)
		cfg := testConfig(fc)
		cfg.ReadFrom = rf
		cfg.RetryBackoff, cfg.RetryBackoffMax = 10*time.Millisecond, 40*time.Millisecond
		c := newEngine(t, cfg, threeShards)
		start := time.Now()
		var n atomic.Int32
		fc.handle(p1, func(_ *Waiter, args []string, _ bool) (resp.Value, error) {
			if strings.EqualFold(args[0], "HSCAN") {
				n.Add(1)
				if time.Since(start) < 30*time.Millisecond {
					return resp.Value{Type: resp.TypeError, Err: &resp.Error{Code: "LOADING", Msg: "LOADING Redis is loading the dataset in memory", Slot: -1}}, nil
				}
				return arrV(bulkV("0"), arrV()), nil
			}
			return okValue(), nil
		})
		var tr Trace
		if forcePrimary {
			tr.ReadPrimary()
		}
		r := c.Do(context.Background(), []any{"HSCAN", "{06S}h", "0"}, &tr) // slot 0..5460: p1
		return r, time.Since(start)
	}
	r, d := run(ReadPrimary, false)
	t.Logf("ReadFrom primary: err %v after %v", r.err, d)
	if r.err != nil || r.val.Err != nil {
		t.Fatalf("ReadFrom primary: %v %v", r.err, r.val.Err)
	}
	r, d = run(ReadPreferReplica, true)
	t.Logf("ReadPreferReplica + ReadPrimary: err %v %v after %v", r.err, r.val.Err, d)
	if r.err != nil || r.val.Err != nil {
		t.Fatalf("a primary-forced read under ReadPreferReplica failed on LOADING after %v (no backoff): %v %v", d, r.err, r.val.Err)
	}
}
