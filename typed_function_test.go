package redline

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/redline-go/redline/redistest"
)

// Integration tests of the function methods of issue 18 (typed_function.go). FUNCTION
// LOAD, DELETE, FLUSH, RESTORE and KILL go to every primary, so they run on a cluster of
// their own.

const typedLib = `#!lua name=typedlib
redis.register_function('tset', function(keys, args) return redis.call('SET', keys[1], args[1]) end)
redis.register_function{function_name='tget', callback=function(keys) return redis.call('GET', keys[1]) end, flags={'no-writes'}, description='gets a key'}
redis.register_function{function_name='spin', callback=function() while true do end end, flags={'no-writes'}}
`

func TestTypedFunctions(t *testing.T) {
	t.Parallel()
	cl := redistest.Run(t, redistest.Config{Masters: 2, NoProxy: true})
	for _, proto := range []int{3, 2} {
		c := newTestClient(t, cl, Options{Protocol: proto})
		ctx := t.Context()
		check(t, c.FunctionFlush(ctx))
		name, err := c.FunctionLoad(ctx, typedLib)
		eq(t, "FunctionLoad", name, err, "typedlib")
		if _, err := c.FunctionLoad(ctx, typedLib); err == nil {
			t.Fatal("FunctionLoad of a loaded library: no error")
		}
		name, err = c.FunctionLoadReplace(ctx, typedLib)
		eq(t, "FunctionLoadReplace", name, err, "typedlib")

		// The library is on every primary: a key on each node runs it.
		for i, k := range []string{cl.KeyOn(t, cl.Node(0), "typed:fn:"), cl.KeyOn(t, cl.Node(1), "typed:fn:")} {
			check(t, c.FCall(ctx, "tset", []string{k}, i).Err())
			v, err := c.FCallRO(ctx, "tget", []string{k}).Int64()
			eq(t, "FCallRO", v, err, int64(i))
		}
		var re *RedisError
		if err := c.FCallRO(ctx, "tset", []string{"typed:fn:x"}, 1).Err(); !errors.As(err, &re) {
			t.Fatalf("FCallRO of a function that writes: %v", err)
		}

		libs, err := c.FunctionList(ctx, nil)
		if err != nil || len(libs) != 1 || libs[0].Name != "typedlib" || libs[0].Engine != "LUA" || libs[0].Code != "" || len(libs[0].Functions) != 3 {
			t.Fatalf("FunctionList = %+v %v", libs, err)
		}
		fns := map[string]FunctionInfo{}
		for _, f := range libs[0].Functions {
			fns[f.Name] = f
		}
		if f := fns["tget"]; f.Description != "gets a key" || len(f.Flags) != 1 || f.Flags[0] != "no-writes" {
			t.Fatalf("FunctionList: tget = %+v", f)
		}
		if f := fns["tset"]; f.Description != "" || len(f.Flags) != 0 {
			t.Fatalf("FunctionList: tset = %+v", f)
		}
		libs, err = c.FunctionList(ctx, &FunctionListOptions{LibraryName: "typed*", WithCode: true})
		if err != nil || len(libs) != 1 || libs[0].Code != typedLib {
			t.Fatalf("FunctionList WITHCODE = %+v %v", libs, err)
		}
		libs, err = c.FunctionList(ctx, &FunctionListOptions{LibraryName: "nope*"})
		if err != nil || len(libs) != 0 {
			t.Fatalf("FunctionList of no library = %+v %v", libs, err)
		}

		st, err := c.FunctionStats(ctx)
		if err != nil || st.Running != nil || st.Engines["LUA"] != (FunctionEngineStats{Libraries: 1, Functions: 3}) {
			t.Fatalf("FunctionStats = %+v %v", st, err)
		}

		dump, err := c.FunctionDump(ctx)
		check(t, err)
		check(t, c.FunctionDelete(ctx, "typedlib"))
		if err := c.FunctionDelete(ctx, "typedlib"); err == nil {
			t.Fatal("FunctionDelete of a missing library: no error")
		}
		check(t, c.FunctionRestore(ctx, dump, ""))
		if err := c.FunctionRestore(ctx, dump, ""); err == nil {
			t.Fatal("FunctionRestore APPEND of a loaded library: no error")
		}
		check(t, c.FunctionRestore(ctx, dump, "REPLACE"))
		check(t, c.FunctionFlushAsync(ctx))
		libs, err = c.FunctionList(ctx, nil)
		if err != nil || len(libs) != 0 {
			t.Fatalf("FunctionList after FunctionFlushAsync = %+v %v", libs, err)
		}
		check(t, c.FunctionRestore(ctx, dump, "FLUSH"))
		st, err = c.FunctionStats(ctx)
		if err != nil || st.Engines["LUA"].Libraries != 1 {
			t.Fatalf("FunctionStats after FunctionRestore = %+v %v", st, err)
		}

		if err := c.FunctionKill(ctx); !errors.As(err, &re) || !strings.HasPrefix(re.Error(), "NOTBUSY") {
			t.Fatalf("FunctionKill with nothing running: %v", err)
		}
	}
}

// TestTypedFunctionKill stops a function that runs forever: FUNCTION KILL goes to every
// primary, and succeeds when the one running it does.
func TestTypedFunctionKill(t *testing.T) {
	t.Parallel()
	cl := redistest.Run(t, redistest.Config{Masters: 2, NoProxy: true})
	// The runner's calls wait out the function, however long the kill takes to come.
	c := newTestClient(t, cl, Options{CommandTimeout: 30 * time.Second})
	killer := newTestClient(t, cl, Options{})
	ctx := t.Context()
	// A node answers other clients, FUNCTION KILL among them, once a function has run
	// this long.
	check(t, c.Do(ctx, "CONFIG", "SET", "busy-reply-threshold", "50").Err())
	_, err := c.FunctionLoad(ctx, typedLib)
	check(t, err)
	done := make(chan error, 1)
	go func() {
		done <- c.FCallRO(context.Background(), "spin", []string{"typed:spin"}).Err()
	}()
	redistest.Eventually(t, 10*time.Second, func() bool { return killer.FunctionKill(ctx) == nil },
		"FunctionKill never found the function running")
	select {
	case err := <-done:
		var re *RedisError
		if !errors.As(err, &re) || !strings.Contains(err.Error(), "killed") {
			t.Fatalf("the killed FCALL_RO returned %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the FCALL_RO still runs 10s after FunctionKill")
	}
}

// TestTypedScriptKill stops a Lua script that runs forever: SCRIPT KILL goes to every
// primary, and succeeds when the one running it does; with nothing running it fails
// with NOTBUSY.
func TestTypedScriptKill(t *testing.T) {
	t.Parallel()
	cl := redistest.Run(t, redistest.Config{Masters: 2, NoProxy: true})
	// The runner's call waits out the script, however long the kill takes to come.
	c := newTestClient(t, cl, Options{CommandTimeout: 30 * time.Second})
	killer := newTestClient(t, cl, Options{})
	ctx := t.Context()
	var re *RedisError
	if err := killer.ScriptKill(ctx); !errors.As(err, &re) || !strings.HasPrefix(re.Error(), "NOTBUSY") {
		t.Fatalf("ScriptKill with nothing running: %v", err)
	}
	// A node answers other clients, SCRIPT KILL among them, once a script has run this
	// long.
	check(t, c.Do(ctx, "CONFIG", "SET", "busy-reply-threshold", "50").Err())
	done := make(chan error, 1)
	go func() {
		done <- c.Do(context.Background(), "EVAL", "while true do end", 1, "typed:spin").Err()
	}()
	redistest.Eventually(t, 10*time.Second, func() bool { return killer.ScriptKill(ctx) == nil },
		"ScriptKill never found the script running")
	select {
	case err := <-done:
		if !errors.As(err, &re) || !strings.Contains(err.Error(), "killed") {
			t.Fatalf("the killed EVAL returned %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the EVAL still runs 10s after ScriptKill")
	}
}
