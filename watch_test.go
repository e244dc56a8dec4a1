package redline

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestWatchWithoutKeys: a Watch without keys runs on the node of its first command's
// key (it used to pick a random node for slot -1 first, whose MOVED answers failed
// the transaction).
func TestWatchWithoutKeys(t *testing.T) {
	c := newTestClient(t, plain(t), Options{})
	ctx := t.Context()
	for i := range 12 {
		k := fmt.Sprintf("wnk:%d", i)
		err := c.Watch(ctx, func(tx *Tx) error {
			if err := tx.Do(ctx, "GET", k).Err(); err != nil && !tx.Do(ctx, "GET", k).IsNil() {
				return err
			}
			rs, err := tx.Exec(ctx, Cmd("SET", k, "v"), Cmd("GET", k))
			if err != nil {
				return err
			}
			if s, _ := rs[1].Text(); s != "v" {
				return fmt.Errorf("GET in the transaction: %q", s)
			}
			return nil
		})
		if err != nil {
			t.Fatalf("key %s: %v", k, err)
		}
	}
}

// TestTxAfterWatch: a Tx kept after its Watch function returned is an error, not a
// command on a pooled connection.
func TestTxAfterWatch(t *testing.T) {
	c := newTestClient(t, plain(t), Options{})
	ctx := t.Context()
	var kept *Tx
	if err := c.Watch(ctx, func(tx *Tx) error { kept = tx; return nil }, "taw:k"); err != nil {
		t.Fatal(err)
	}
	if err := kept.Do(ctx, "SET", "taw:k", "late").Err(); err == nil || !strings.Contains(err.Error(), "after its Watch") {
		t.Fatalf("Tx.Do after Watch: %v", err)
	}
	if _, err := kept.Exec(ctx, Cmd("SET", "taw:k", "late")); err == nil || !strings.Contains(err.Error(), "after its Watch") {
		t.Fatalf("Tx.Exec after Watch: %v", err)
	}
	if s, _ := c.Do(ctx, "GET", "taw:k").Text(); s == "late" {
		t.Fatal("a Tx after its Watch wrote")
	}
}

// TestWatchPanicReleasesConnection: a panic in the Watch function gives the dedicated
// connection back (issue 16 item 6: after 16 recovered panics, Watch and BLPOP on that
// node failed for good).
func TestWatchPanicReleasesConnection(t *testing.T) {
	c := newTestClient(t, plain(t), Options{})
	ctx := t.Context()
	for i := range 40 {
		func() {
			defer func() {
				if r := recover(); r != "boom" {
					t.Fatalf("panic %d: recovered %v", i, r)
				}
			}()
			c.Watch(ctx, func(tx *Tx) error { panic("boom") }, "wpr:k")
		}()
	}
	if err := c.Watch(ctx, func(tx *Tx) error { return tx.Do(ctx, "GET", "wpr:k").Err() }, "wpr:k"); err != nil && !strings.Contains(err.Error(), "nil") {
		t.Fatalf("Watch after the panics: %v", err)
	}
	if r := c.Do(ctx, "BLPOP", "wpr:k", "0.1"); r.Err() != nil && !r.IsNil() {
		t.Fatalf("BLPOP after the panics: %v", r.Err())
	}
}

// TestPublishKeepsOrder: one client's sequential PUBLISHes to a channel arrive in order
// (issue 16 item 10: PUBLISH went to a random primary on every call).
func TestPublishKeepsOrder(t *testing.T) {
	c := newTestClient(t, plain(t), Options{})
	ctx := t.Context()
	sub, err := c.Subscribe(ctx, "pko:ch")
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	const n = 1500
	errc := make(chan error, 1)
	go func() { // the reader keeps up meanwhile
		for i := range n {
			if err := c.Do(ctx, "PUBLISH", "pko:ch", fmt.Sprint(i)).Err(); err != nil {
				errc <- err
				return
			}
		}
		errc <- nil
	}()
	defer func() {
		if err := <-errc; err != nil {
			t.Error(err)
		}
	}()
	next, late := 0, 0
	timeout := time.After(20 * time.Second)
	for got := 0; got < n; got++ {
		select {
		case m := <-sub.Messages():
			if m.Kind != "message" {
				t.Fatalf("message %d: %+v", got, m)
			}
			if m.Payload != fmt.Sprint(next) {
				late++
			}
			fmt.Sscan(m.Payload, &next)
			next++
		case <-timeout:
			t.Fatalf("%d of %d messages arrived", got, n)
		}
	}
	if late > 0 {
		t.Fatalf("%d of %d messages out of order", late, n)
	}
}
