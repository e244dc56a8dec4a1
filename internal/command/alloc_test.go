package command

import "testing"

func TestLookupAllocs(t *testing.T) {
	cases := [][]any{
		{"GET", "k"},
		{"get", "k"},
		{[]byte("Get"), "k"},
		{"CONFIG", "GET", "maxmemory"},
		{"config", []byte("get"), "maxmemory"},
		{"CONFIG", "NOPE"},
		{"NOSUCHCOMMAND"},
		{"georadiusbymember_ro", "k"},
		{42},
	}
	for _, args := range cases {
		if n := testing.AllocsPerRun(100, func() { _ = Lookup(args) }); n != 0 {
			t.Errorf("Lookup(%q) allocates %v times", args, n)
		}
	}
	if n := testing.AllocsPerRun(100, func() { _ = LookupName("config|get") }); n != 0 {
		t.Errorf("LookupName allocates %v times", n)
	}
}

func TestKeyIndexesAllocs(t *testing.T) {
	cases := [][]any{
		a("GET k"),
		a("MSET a 1 b 2 c 3 d 4 e 5 f 6 g 7 h 8 i 9 j 10"),
		a("EVAL s 2 k1 k2 arg"),
		{"EVAL", "s", 2, []byte("k1"), "k2"},
		a("XREAD COUNT 2 STREAMS k1 k2 0 0"),
		a("XREADGROUP GROUP g c STREAMS k >"),
		a(`MIGRATE host 6379 "" 0 5000 KEYS a b`),
		a("SORT k BY w_* STORE d"),
		a("GEORADIUS k 15 37 200 km STORE d"),
		a("ZUNIONSTORE dest 2 a b"),
		a("SPUBLISH ch msg"),
		a("EVAL s x k"),
	}
	dst := make([]int, 0, 16)
	for _, args := range cases {
		in := Lookup(args)
		if n := testing.AllocsPerRun(100, func() {
			_, _ = in.KeyIndexes(args, dst[:0])
			_, _ = in.SlotIndexes(args, dst[:0])
		}); n != 0 {
			t.Errorf("KeyIndexes(%q) allocates %v times", args, n)
		}
	}
}
