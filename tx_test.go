package redline

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/redline-go/redline/hashslot"
	"github.com/redline-go/redline/internal/topology"
)

func TestTransactions(t *testing.T) {
	t.Parallel()
	c := newTestClient(t, plain(t), Options{})
	ctx := t.Context()
	c.Do(ctx, "DEL", "{tx}a", "{tx}b")
	// Commit: a read under WATCH, then MULTI/EXEC.
	err := c.Watch(ctx, func(tx *Tx) error {
		n, err := tx.Do(ctx, "GET", "{tx}a").Int64()
		if err != nil && !errors.Is(err, Nil) {
			return err
		}
		rs, err := tx.Exec(ctx, Cmd("SET", "{tx}a", n+1), Cmd("INCR", "{tx}b"))
		if err != nil {
			return err
		}
		if v, err := rs[1].Int64(); err != nil || v != 1 {
			return fmt.Errorf("INCR in EXEC: %d %v", v, err)
		}
		return nil
	}, "{tx}a")
	if err != nil {
		t.Fatal(err)
	}
	if n, err := c.Do(ctx, "GET", "{tx}a").Int64(); err != nil || n != 1 {
		t.Fatalf("after commit: %d %v", n, err)
	}
	// Abort: a watched key changes between WATCH and EXEC.
	err = c.Watch(ctx, func(tx *Tx) error {
		if err := c.Do(ctx, "SET", "{tx}a", 100).Err(); err != nil { // another client's write
			return err
		}
		_, err := tx.Exec(ctx, Cmd("SET", "{tx}a", 2))
		return err
	}, "{tx}a")
	if !errors.Is(err, ErrTxFailed) {
		t.Fatalf("got %v, want ErrTxFailed", err)
	}
	if n, _ := c.Do(ctx, "GET", "{tx}a").Int64(); n != 100 {
		t.Fatalf("aborted transaction wrote: %d", n)
	}
	// Cross-slot: refused before anything is sent.
	var ce *CrossSlotError
	if err := c.Watch(ctx, func(*Tx) error { return nil }, "tx:a", "tx:b"); !errors.As(err, &ce) {
		t.Fatalf("WATCH across slots: %v", err)
	}
	err = c.Watch(ctx, func(tx *Tx) error {
		_, err := tx.Exec(ctx, Cmd("SET", "{tx}a", 1), Cmd("SET", "{other}b", 1))
		return err
	}, "{tx}a")
	if err == nil {
		t.Fatal("a transaction across slots was sent")
	}
	// A command rejected at queue time aborts the transaction.
	err = c.Watch(ctx, func(tx *Tx) error {
		_, err := tx.Exec(ctx, Cmd("SET", "{tx}a"), Cmd("INCR", "{tx}b"))
		return err
	}, "{tx}a")
	var re *RedisError
	if !errors.As(err, &re) || re.Code != "EXECABORT" {
		t.Fatalf("queue-time error: %v, want EXECABORT", err)
	}
}

// TestTxCrossSlotError: a Tx command whose key is in another slot than the
// transaction's fails with the *CrossSlotError Do returns, naming the key that fixed
// the transaction's slot and the offending one, before anything is sent.
func TestTxCrossSlotError(t *testing.T) {
	t.Parallel()
	c := newTestClient(t, plain(t), Options{})
	ctx := t.Context()
	check := func(what string, err error, first, second string) {
		t.Helper()
		var ce *CrossSlotError
		if !errors.As(err, &ce) {
			t.Fatalf("%s: got %v, want a *CrossSlotError", what, err)
		}
		if ce.Keys != [2]string{first, second} || ce.Slots[0] == ce.Slots[1] {
			t.Fatalf("%s: %+v, want keys %q and %q in different slots", what, *ce, first, second)
		}
	}
	err := c.Watch(ctx, func(tx *Tx) error {
		_, err := tx.Exec(ctx, Cmd("SET", "{tx}a", 1), Cmd("SET", "{other}b", 1))
		return err
	}, "{tx}a")
	check("Exec", err, "{tx}a", "{other}b")
	err = c.Watch(ctx, func(tx *Tx) error { return tx.Do(ctx, "GET", "{other}b").Err() }, "{tx}a")
	check("Do", err, "{tx}a", "{other}b")
	err = c.Watch(ctx, func(tx *Tx) error { // no WATCH: the first key fixes the slot
		if err := tx.Do(ctx, "GET", "{tx}c").Err(); err != nil && !errors.Is(err, Nil) {
			return err
		}
		return tx.Do(ctx, "GET", "{other}d").Err()
	})
	check("Do after a first key", err, "{tx}c", "{other}d")
}

// TestWatchFollowsMoved: when the client's table is stale (it sends WATCH to a node
// that no longer owns the slot), the MOVED answer is followed once and the transaction
// runs on the slot's owner.
func TestWatchFollowsMoved(t *testing.T) {
	t.Parallel()
	c := newTestClient(t, plain(t), Options{RefreshMinInterval: time.Hour})
	ctx := t.Context()
	const k = "{txmoved}k"
	slot := hashslot.Key(k)
	owner, err := c.e.Pick(slot, false)
	if err != nil {
		t.Fatal(err)
	}
	var wrong string
	for _, n := range c.e.Topology().Nodes() {
		if n.Role == topology.RolePrimary && n.Addr != owner.Addr() {
			wrong = n.Addr
			break
		}
	}
	if wrong == "" {
		t.Fatal("no other primary")
	}
	c.e.ApplyMoved(slot, wrong) // stale: the client now sends the slot to the wrong primary
	moved := c.Stats().Moved
	err = c.Watch(ctx, func(tx *Tx) error {
		_, err := tx.Exec(ctx, Cmd("SET", k, "1"))
		return err
	}, k)
	if err != nil {
		t.Fatalf("Watch after a stale MOVED: %v", err)
	}
	if got := c.Stats().Moved; got != moved+1 {
		t.Errorf("%d MOVED followed, want 1", got-moved)
	}
	if v, err := c.Do(ctx, "GET", k).Text(); err != nil || v != "1" {
		t.Fatalf("GET after the transaction: %q %v", v, err)
	}
}
