package command

import "testing"

func eachInfo(fn func(*Info)) {
	for _, in := range All() {
		fn(in)
		for _, s := range in.Subcommands {
			fn(s)
		}
	}
}

func TestConnStateCoversCategories(t *testing.T) {
	n := 0
	eachInfo(func(in *Info) {
		if in.Categories&(CatConnection|CatPubSub|CatTransaction) == 0 {
			return
		}
		n++
		switch {
		case in.Categories&CatTransaction != 0 && in.ConnState != ConnTransaction:
			t.Errorf("%s (@transaction) is %s, want transaction", in.Name, in.ConnState)
		case !connHarmless[in.Name] && connStateByName[in.Name] == ConnNone && in.Categories&CatTransaction == 0:
			t.Errorf("%s (%s) is not classified: add it to connStateByName, or to connHarmless if it leaves the connection as it found it", in.Name, in.Categories)
		case in.ConnState != ConnNone && connHarmless[in.Name]:
			t.Errorf("%s is both harmless and %s", in.Name, in.ConnState)
		}
	})
	if n < 40 {
		t.Errorf("only %d commands in @connection, @pubsub and @transaction: are the categories parsed?", n)
	}
}

func TestConnStateTable(t *testing.T) {
	want := map[string]ConnState{
		"multi": ConnTransaction, "exec": ConnTransaction, "discard": ConnTransaction,
		"watch": ConnTransaction, "unwatch": ConnTransaction,
		"subscribe": ConnSubscribe, "psubscribe": ConnSubscribe, "ssubscribe": ConnSubscribe,
		"unsubscribe": ConnSubscribe, "punsubscribe": ConnSubscribe, "sunsubscribe": ConnSubscribe,
		"monitor": ConnMonitor, "client|reply": ConnSession, "client|tracking": ConnSession,
		"client|caching": ConnSession, "client|setname": ConnSession, "client|no-evict": ConnSession,
		"reset": ConnSession, "hello": ConnSession, "auth": ConnSession, "select": ConnSession,
		"readonly": ConnSession, "readwrite": ConnSession, "quit": ConnSession, "asking": ConnSession,
		"script|debug": ConnSession, "client": ConnSession,
		"sync": ConnReplication, "psync": ConnReplication, "replconf": ConnReplication,
		"get": ConnNone, "publish": ConnNone, "client|id": ConnNone, "ping": ConnNone, "blpop": ConnNone,
	}
	for name, st := range want {
		in := LookupName(name)
		if in == nil {
			t.Errorf("%s: not in the table", name)
			continue
		}
		if in.ConnState != st {
			t.Errorf("%s: %s, want %s", name, in.ConnState, st)
		}
	}
	// A CLIENT subcommand the table does not know finds the container: refused too.
	if in := Lookup([]any{"CLIENT", "NO-TOUCH", "ON"}); in == nil || in.ConnState != ConnSession {
		t.Errorf("CLIENT NO-TOUCH: %v", in)
	}
	// A @connection command that neither list knows (a newer server's) is refused.
	in := &Info{Name: "client|newthing", Categories: CatConnection | CatSlow}
	if classifyConn(in); in.ConnState != ConnSession {
		t.Errorf("an unknown @connection command: %s", in.ConnState)
	}
	// Every name of the list is a command of the table or of a newer Redis.
	newer := map[string]bool{"client|setinfo": true, "client|no-touch": true}
	for name := range connStateByName {
		if LookupName(name) == nil && !newer[name] {
			t.Errorf("connStateByName lists %s, which the table does not know", name)
		}
	}
}
