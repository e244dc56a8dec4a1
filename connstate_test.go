package redline

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redline-go/redline/internal/command"
)

// connStateArgs builds a plausible invocation of a table command: its name (and
// subcommand), then arguments up to its arity, with the values issue 15 reports.
func connStateArgs(in *command.Info) []any {
	known := map[string][]any{
		"client|reply":    {"CLIENT", "REPLY", "SKIP"},
		"client|tracking": {"CLIENT", "TRACKING", "ON"},
		"client|caching":  {"CLIENT", "CACHING", "YES"},
		"client|setname":  {"CLIENT", "SETNAME", "x"},
		"client|no-evict": {"CLIENT", "NO-EVICT", "ON"},
		"hello":           {"HELLO", "2"},
		"select":          {"SELECT", "1"},
		"auth":            {"AUTH", "nobody", "x"},
		"psync":           {"PSYNC", "?", "-1"},
		"replconf":        {"REPLCONF", "listening-port", "1"},
		"script|debug":    {"SCRIPT", "DEBUG", "YES"},
		"watch":           {"WATCH", "cs:k0"},
		"subscribe":       {"SUBSCRIBE", "cs:ch"},
		"psubscribe":      {"PSUBSCRIBE", "cs:*"},
		"ssubscribe":      {"SSUBSCRIBE", "cs:ch"},
	}
	if a, ok := known[in.Name]; ok {
		return a
	}
	var args []any
	for _, p := range strings.Split(in.Name, "|") {
		args = append(args, strings.ToUpper(p))
	}
	for n := max(in.Arity, -in.Arity); len(args) < n; {
		args = append(args, "x")
	}
	return args
}

// TestConnStateCommandsAreRefused sends every command of the table that changes its
// connection's state through Do and inside DoMulti, while 8 goroutines GET known keys
// on the same client: no GET may see a wrong reply or an error, and each command is
// refused, unsent, with an error that names what to use (issue 15 item 1).
func TestConnStateCommandsAreRefused(t *testing.T) {
	cl := plain(t)
	c := newTestClient(t, cl, Options{})
	ctx := t.Context()
	const nkeys = 32
	for i := range nkeys {
		if err := c.Do(ctx, "SET", fmt.Sprintf("cs:k%d", i), fmt.Sprintf("v%d", i)).Err(); err != nil {
			t.Fatal(err)
		}
	}
	var infos []*command.Info
	for _, in := range command.All() {
		for _, x := range append([]*command.Info{in}, in.Subcommands...) {
			if x.ConnState != command.ConnNone {
				infos = append(infos, x)
			}
		}
	}
	if len(infos) < 25 {
		t.Fatalf("only %d connection-state commands in the table", len(infos))
	}

	stop := make(chan struct{})
	var wg sync.WaitGroup
	var gets, wrong atomic.Int64
	var firstWrong atomic.Value
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := g; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				k := i % nkeys
				cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
				s, err := c.Do(cctx, "GET", fmt.Sprintf("cs:k%d", k)).Text()
				cancel()
				gets.Add(1)
				if want := fmt.Sprintf("v%d", k); err != nil || s != want {
					wrong.Add(1)
					firstWrong.CompareAndSwap(nil, fmt.Sprintf("GET cs:k%d = %q, %v", k, s, err))
				}
			}
		}()
	}
	for _, in := range infos {
		args := connStateArgs(in)
		var ce *ConnStateError
		err := c.Do(ctx, args...).Err()
		if !errors.As(err, &ce) || ce.Use == "" || !strings.Contains(err.Error(), ce.Use) {
			t.Errorf("Do %v: %v, want a *ConnStateError naming what to use", args, err)
		}
		rs := c.DoMulti(ctx, Cmd("GET", "cs:k1"), Cmd(args...), Cmd("GET", "cs:k2"))
		if s, err := rs[0].Text(); s != "v1" || err != nil {
			t.Errorf("DoMulti with %v: GET before = %q, %v", args, s, err)
		}
		if s, err := rs[2].Text(); in.Name != "multi" && (s != "v2" || err != nil) {
			t.Errorf("DoMulti with %v: GET after = %q, %v", args, s, err)
		}
		err = rs[1].Err()
		switch {
		case in.Name == "multi": // a MULTI without EXEC: it and what follows are not sent
			if err == nil || !strings.Contains(err.Error(), "without EXEC") || rs[2].Err() == nil {
				t.Errorf("DoMulti with a lone MULTI: %v, %v", err, rs[2].Err())
			}
		case !errors.As(err, &ce) || ce.Use == "":
			t.Errorf("DoMulti %v: %v, want a *ConnStateError", args, err)
		}
	}
	// What runs where it is safe: MULTI … EXEC (with a WATCH before it) in DoMulti.
	for i := range 50 {
		rs := c.DoMulti(ctx, Cmd("GET", "cs:k3"), Cmd("WATCH", "cs:{t}a"), Cmd("MULTI"), Cmd("SET", "cs:{t}a", i),
			Cmd("INCR", "cs:{t}a"), Cmd("EXEC"), Cmd("GET", "cs:k4"))
		if s, _ := rs[0].Text(); s != "v3" {
			t.Fatalf("GET before a transaction: %q, %v", s, rs[0].Err())
		}
		if s, _ := rs[6].Text(); s != "v4" {
			t.Fatalf("GET after a transaction: %q, %v", s, rs[6].Err())
		}
		if ex := rs[5].val; !isList(ex) || len(ex.Elems) != 2 || ex.Elems[1].Int != int64(i+1) {
			t.Fatalf("EXEC: %+v, %v", ex, rs[5].Err())
		}
	}
	// Tx.Do and Tx.Exec refuse them too (WATCH and UNWATCH are Tx.Do's to send).
	err := c.Watch(ctx, func(tx *Tx) error {
		for _, in := range infos {
			args := connStateArgs(in)
			if in.Name != "watch" && in.Name != "unwatch" {
				if err := tx.Do(ctx, args...).Err(); !errors.As(err, new(*ConnStateError)) {
					t.Errorf("Tx.Do %v: %v", args, err)
				}
			}
			if _, err := tx.Exec(ctx, Cmd(args...)); !errors.As(err, new(*ConnStateError)) {
				t.Errorf("Tx.Exec %v: %v", args, err)
			}
		}
		return nil
	}, "cs:k0")
	if err != nil {
		t.Fatal(err)
	}
	close(stop)
	wg.Wait()
	if wrong.Load() > 0 || gets.Load() == 0 {
		t.Fatalf("%d of %d concurrent GETs went wrong; first: %v", wrong.Load(), gets.Load(), firstWrong.Load())
	}
	t.Logf("%d commands refused, %d concurrent GETs right", len(infos), gets.Load())
}
