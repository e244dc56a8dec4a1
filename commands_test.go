package redline

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"
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
	if !errors.Is(err, TxFailed) {
		t.Fatalf("got %v, want TxFailed", err)
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

func TestScriptFallsBackAfterFlush(t *testing.T) {
	c := newTestClient(t, plain(t), Options{})
	ctx := t.Context()
	s := NewScript("return redis.call('INCRBY', KEYS[1], ARGV[1])")
	c.Do(ctx, "DEL", "script:n")
	if n, err := s.Run(ctx, c, []string{"script:n"}, 5).Int64(); err != nil || n != 5 {
		t.Fatalf("first run (EVAL after NOSCRIPT): %d %v", n, err)
	}
	if n, err := s.Run(ctx, c, []string{"script:n"}, 5).Int64(); err != nil || n != 10 {
		t.Fatalf("second run (EVALSHA): %d %v", n, err)
	}
	if err := c.Do(ctx, "SCRIPT", "FLUSH").Err(); err != nil {
		t.Fatal(err)
	}
	if n, err := s.Run(ctx, c, []string{"script:n"}, 1).Int64(); err != nil || n != 11 {
		t.Fatalf("after SCRIPT FLUSH: %d %v", n, err)
	}
	ro := NewScript("return redis.call('GET', KEYS[1])")
	if v, err := ro.RunRO(ctx, c, []string{"script:n"}).Text(); err != nil || v != "11" {
		t.Fatalf("read-only script: %q %v", v, err)
	}
}

func TestScanEveryKeyOnce(t *testing.T) {
	// Not parallel: it counts the whole keyspace's matching keys.
	c := newTestClient(t, plain(t), Options{})
	ctx := t.Context()
	const n = 10000
	for start := 0; start < n; start += 1000 {
		args := []any{"MSET"}
		for i := start; i < start+1000; i++ {
			args = append(args, fmt.Sprintf("scan:%d", i), i)
		}
		if err := c.Do(ctx, args...).Err(); err != nil {
			t.Fatal(err)
		}
	}
	seen := make(map[string]int, n)
	it := c.Scan(ScanOptions{Match: "scan:*", Count: 500})
	for it.Next(ctx) {
		seen[it.Key()]++
	}
	if err := it.Err(); err != nil {
		t.Fatal(err)
	}
	if len(seen) != n {
		t.Fatalf("SCAN found %d distinct keys, want %d", len(seen), n)
	}
	for k, times := range seen {
		if times != 1 {
			t.Fatalf("key %s returned %d times", k, times)
		}
	}
	if it.Restarts() != 0 {
		t.Errorf("%d restarts on a stable cluster", it.Restarts())
	}
	del := []any{"DEL"}
	for k := range seen {
		del = append(del, k)
	}
	if err := c.Do(ctx, del...).Err(); err != nil {
		t.Fatal(err)
	}
}

func TestBlockingCommandsHonorDeadline(t *testing.T) {
	t.Parallel()
	cl := plain(t)
	const name = "TestBlockingCommandsHonorDeadline" // to find its BLPOP blocked on the server
	c := newTestClient(t, cl, Options{ClientName: name})
	for _, args := range [][]any{
		{"BLPOP", "block:list", 5},
		{"BZPOPMIN", "block:zset", 5},
		{"XREAD", "BLOCK", 5000, "STREAMS", "block:stream", "$"},
	} {
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		start := time.Now()
		err := c.Do(ctx, args...).Err()
		el := time.Since(start)
		cancel()
		if !errors.Is(err, context.DeadlineExceeded) || el < 100*time.Millisecond || el > 150*time.Millisecond {
			t.Errorf("%v: %v after %v, want deadline exceeded at 100ms", args[0], err, el)
		}
	}
	// A blocking command that is served returns its value, and ordinary commands are not
	// held up by a blocked one meanwhile.
	var wg sync.WaitGroup
	wg.Add(1)
	var got []string
	var bErr error
	go func() {
		defer wg.Done()
		got, bErr = c.Do(t.Context(), "BLPOP", "block:served", 2).Strings()
	}()
	cl.WaitBlocked(t, name, 5*time.Second) // the push below meets a waiting BLPOP
	start := time.Now()
	if err := c.Do(t.Context(), "RPUSH", "block:served", "x").Err(); err != nil {
		t.Fatal(err)
	}
	if el := time.Since(start); el > 100*time.Millisecond {
		t.Errorf("RPUSH waited %v behind a blocked BLPOP", el)
	}
	wg.Wait()
	if bErr != nil || len(got) != 2 || got[1] != "x" {
		t.Fatalf("BLPOP: %v %v", got, bErr)
	}
}
