package redline

import (
	"testing"
)

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
