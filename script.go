package redline

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"strconv"
	"strings"
)

// Script is a Lua script run by its SHA1 (EVALSHA), sent in full (EVAL) only when a
// node does not have it cached yet (NOSCRIPT). Routed by its keys' slot like any
// command; all keys must share a slot.
type Script struct {
	src, sha string
}

// NewScript returns a script for src.
func NewScript(src string) *Script {
	sum := sha1.Sum([]byte(src))
	return &Script{src: src, sha: hex.EncodeToString(sum[:])}
}

// Hash returns the script's SHA1, as EVALSHA and SCRIPT EXISTS know it.
func (s *Script) Hash() string { return s.sha }

// Run runs the script with keys and args: EVALSHA, then EVAL if the node answers
// NOSCRIPT (after a SCRIPT FLUSH, a restart or on a new node).
//
// Commands: EVALSHA sha1 numkeys key... arg..., then EVAL script numkeys key... arg...
// when the node answers NOSCRIPT.
func (s *Script) Run(ctx context.Context, c *Client, keys []string, args ...any) Result {
	return s.run(ctx, c, "EVALSHA", "EVAL", keys, args)
}

// RunRO runs a read-only script (EVALSHA_RO / EVAL_RO): it may go to replicas per
// Options.ReadFrom, and the server refuses it if it writes. A server before Redis 7.0
// does not know EVALSHA_RO: there it runs as Run does (on the primary, the server not
// checking that it only reads).
//
// Commands: EVALSHA_RO, then EVAL_RO on NOSCRIPT; EVALSHA, then EVAL, on a server
// that does not know EVALSHA_RO.
func (s *Script) RunRO(ctx context.Context, c *Client, keys []string, args ...any) Result {
	r := s.run(ctx, c, "EVALSHA_RO", "EVAL_RO", keys, args)
	var re *RedisError
	if errors.As(r.Err(), &re) && re.Code == "ERR" && strings.Contains(re.Msg, "unknown command") {
		return s.run(ctx, c, "EVALSHA", "EVAL", keys, args)
	}
	return r
}

func (s *Script) run(ctx context.Context, c *Client, bySHA, bySource string, keys []string, args []any) Result {
	cmd := make([]any, 0, 3+len(keys)+len(args))
	cmd = append(cmd, bySHA, s.sha, strconv.Itoa(len(keys)))
	for _, k := range keys {
		cmd = append(cmd, k)
	}
	cmd = append(cmd, args...)
	r := c.Do(ctx, cmd...)
	var re *RedisError
	if errors.As(r.Err(), &re) && re.Code == "NOSCRIPT" {
		cmd[0], cmd[1] = bySource, s.src
		r = c.Do(ctx, cmd...)
	}
	return r
}
