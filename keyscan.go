package redline

import (
	"context"
	"fmt"
	"strconv"

	"github.com/redline-go/redline/hashslot"
	"github.com/redline-go/redline/internal/cluster"
	"github.com/redline-go/redline/resp"
)

// keyScan is the cursor loop HScanIterator, SScanIterator and ZScanIterator share:
// one HSCAN, SSCAN or ZSCAN of the key per step, sent to the primary of the key's slot
// with the cursor the previous step returned, until the cursor comes back "0".
//
// A cursor means something only to the node that returned it: each node seeds its hash
// function at random, so another node's table is ordered otherwise. When a step is
// answered by a node other than the previous one (a failover, the key's slot migrated,
// an ASK to the migration's target), or by another connection to it (its process may
// have restarted at the same address, seeded anew), that reply is dropped and the scan
// starts again from cursor 0: elements may then be returned again (Restarts counts
// these), never lost.
type keyScan struct {
	c        *Client
	name     string // HSCAN, SSCAN or ZSCAN
	key      string
	match    string
	count    int64
	per      int // elements per item: 2 for HSCAN and ZSCAN (field/member and value/score)
	slot     int
	cursor   string
	node     cluster.Node // the node that answered the steps since the last restart
	conn     uint64       // its shared connection that did (SharedConns); 0 unknown
	done     bool         // the server returned cursor 0
	buf      []resp.Value
	err      error
	restarts int
}

func newKeyScan(c *Client, name, key string, per int, opts ScanOptions) keyScan {
	s := keyScan{c: c, name: name, key: key, match: opts.Match, count: opts.Count, per: per, cursor: "0",
		slot: int(hashslot.Key(key))}
	if opts.Type != "" {
		s.err = fmt.Errorf("redline: %s: ScanOptions.Type applies to Scan only", name)
	}
	if opts.Count < 0 {
		s.err = fmt.Errorf("redline: %s: ScanOptions.Count %d is negative", name, opts.Count)
	}
	return s
}

// next returns the elements of the next item (per of them), reading steps as needed.
func (s *keyScan) next(ctx context.Context) []resp.Value {
	for len(s.buf) == 0 {
		if s.err != nil || s.done {
			return nil
		}
		s.step(ctx)
	}
	item := s.buf[:s.per]
	s.buf = s.buf[s.per:]
	return item
}

// step sends one command: within the call's deadline (the earlier of ctx's and
// Options.CommandTimeout), retried and redirected as Do does.
func (s *keyScan) step(ctx context.Context) {
	args := make([]any, 0, 7)
	args = append(args, s.name, s.key, s.cursor)
	if s.match != "" {
		args = append(args, "MATCH", s.match)
	}
	if s.count > 0 {
		args = append(args, "COUNT", s.count)
	}
	// The shared connections of the node expected to answer (the previous step's; the
	// key's primary at first) before the step and of the node that answered after it:
	// if they are the same, the reply came from that connection.
	var before uint64
	expect := s.node
	if expect == nil {
		expect, _ = s.c.e.Pick(s.slot, false)
	}
	if expect != nil {
		before = expect.Stats().SharedConns
	}
	var tr cluster.Trace
	tr.ReadPrimary()
	r := s.c.doTraced(ctx, args, &tr)
	if err := r.Err(); err != nil {
		s.err = err
		return
	}
	nd, conn := tr.Node(), uint64(0)
	if nd != nil && nd == expect {
		// The connection that answered was installed by the end of the step, and it
		// was (or replaced) the one installed before it, if any.
		if after := nd.Stats().SharedConns; after == max(before, 1) {
			conn = after
		}
	}
	if s.cursor != "0" && (nd != s.node || conn == 0 || conn != s.conn) {
		// The cursor was another node's, or another connection's, whose server may
		// have been another process: start over.
		if s.restarts++; s.restarts > 100*max(s.c.opts.MaxAttempts, 1) {
			s.err = fmt.Errorf("redline: %s %s: the key's node kept changing (%d restarts)", s.name, s.key, s.restarts-1)
			return
		}
		s.node, s.conn, s.cursor = nd, conn, "0"
		return
	}
	s.node, s.conn = nd, conn
	cursor, elems, err := scanReply(r.val, s.per)
	if err != nil {
		s.err = fmt.Errorf("redline: %s %s: %w", s.name, s.key, err)
		return
	}
	s.cursor, s.buf, s.done = cursor, elems, cursor == "0"
}

// scanReply checks a reply of the SCAN family: [cursor, [element…]], the elements
// strings, per of them for each item.
func scanReply(v resp.Value, per int) (string, []resp.Value, error) {
	if v.Type != resp.TypeArray || len(v.Elems) != 2 {
		return "", nil, fmt.Errorf("got %s of %d, want an array of a cursor and the elements", v.Type, len(v.Elems))
	}
	cur, elems := v.Elems[0], v.Elems[1]
	if cur.Type != resp.TypeBulkString && cur.Type != resp.TypeSimpleString {
		return "", nil, fmt.Errorf("got a %s cursor", cur.Type)
	}
	if _, err := strconv.ParseUint(string(cur.Str), 10, 64); err != nil {
		return "", nil, fmt.Errorf("bad cursor %q", cur.Str)
	}
	if elems.Type != resp.TypeArray && elems.Type != resp.TypeSet {
		return "", nil, fmt.Errorf("got %s elements, want an array", elems.Type)
	}
	if len(elems.Elems)%per != 0 {
		return "", nil, fmt.Errorf("got %d elements, want pairs", len(elems.Elems))
	}
	for _, e := range elems.Elems {
		if e.Type != resp.TypeBulkString && e.Type != resp.TypeSimpleString {
			return "", nil, fmt.Errorf("got a %s element, want a string", e.Type)
		}
	}
	return string(cur.Str), elems.Elems, nil
}

// HScanIterator walks the fields and values of a hash: create it with Client.HScan, use
// it from one goroutine.
//
// It gives the guarantee of Redis's HSCAN: a field present for the whole scan is
// returned at least once; a field may be returned more than once (while the hash is
// rehashed, and after a restart: see Restarts), and one added or deleted meanwhile may
// or may not be. A small hash (listpack-encoded) is read whole in one step.
type HScanIterator struct {
	s            keyScan
	field, value string
}

// HScan returns an iterator over the fields and values of the hash at key (fields
// matching opts.Match, "" for all; opts.Count is HSCAN's COUNT hint, 0 for the server's
// 10; opts.Type must be ""). A key that does not exist has none; a key of another type
// ends the scan with a WRONGTYPE error.
//
// Command: HSCAN key cursor [MATCH pattern] [COUNT count], one per step (Next reads a
// step when it has no element left), sent to the primary of the key's slot whatever
// Options.ReadFrom says (a cursor is valid on one node only). Each step is bounded by
// the earlier of Next's ctx deadline and Options.CommandTimeout, and retried and
// redirected as Do is.
func (c *Client) HScan(key string, opts ScanOptions) *HScanIterator {
	return &HScanIterator{s: newKeyScan(c, "HSCAN", key, 2, opts)}
}

// Next advances to the next field, reading a step from the server when needed (see
// HScan). It returns false at the end or on an error (see Err).
func (it *HScanIterator) Next(ctx context.Context) bool {
	e := it.s.next(ctx)
	if e == nil {
		return false
	}
	it.field, it.value = string(e[0].Str), string(e[1].Str)
	return true
}

// Field returns the current field.
func (it *HScanIterator) Field() string { return it.field }

// Value returns the current field's value.
func (it *HScanIterator) Value() string { return it.value }

// Err returns the error that ended the scan, if any.
func (it *HScanIterator) Err() error { return it.s.err }

// Restarts returns how many times the scan started over from cursor 0 because a step
// was answered by another node than the previous one (failover, migration) or over
// another connection (the node's process may have restarted): the fields read before
// may be returned again.
func (it *HScanIterator) Restarts() int { return it.s.restarts }

// SScanIterator walks the members of a set: create it with Client.SScan, use it from
// one goroutine. It gives the guarantee of Redis's SSCAN, as HScanIterator does HSCAN's.
type SScanIterator struct {
	s      keyScan
	member string
}

// SScan returns an iterator over the members of the set at key (members matching
// opts.Match, "" for all; opts.Count is SSCAN's COUNT hint, 0 for the server's 10;
// opts.Type must be ""). A key that does not exist has none.
//
// Command: SSCAN key cursor [MATCH pattern] [COUNT count], one per step, sent to the
// primary of the key's slot; each step bounded and retried as HScan's are.
func (c *Client) SScan(key string, opts ScanOptions) *SScanIterator {
	return &SScanIterator{s: newKeyScan(c, "SSCAN", key, 1, opts)}
}

// Next advances to the next member (see SScan). It returns false at the end or on an
// error (see Err).
func (it *SScanIterator) Next(ctx context.Context) bool {
	e := it.s.next(ctx)
	if e == nil {
		return false
	}
	it.member = string(e[0].Str)
	return true
}

// Member returns the current member.
func (it *SScanIterator) Member() string { return it.member }

// Err returns the error that ended the scan, if any.
func (it *SScanIterator) Err() error { return it.s.err }

// Restarts returns how many times the scan started over from cursor 0 (see
// HScanIterator.Restarts).
func (it *SScanIterator) Restarts() int { return it.s.restarts }

// ZScanIterator walks the members and scores of a sorted set: create it with
// Client.ZScan, use it from one goroutine. It gives the guarantee of Redis's ZSCAN, as
// HScanIterator does HSCAN's; the members do not come in score order.
type ZScanIterator struct {
	s keyScan
	z Z
}

// ZScan returns an iterator over the members and scores of the sorted set at key
// (members matching opts.Match, "" for all; opts.Count is ZSCAN's COUNT hint, 0 for the
// server's 10; opts.Type must be ""). A key that does not exist has none.
//
// Command: ZSCAN key cursor [MATCH pattern] [COUNT count], one per step, sent to the
// primary of the key's slot; each step bounded and retried as HScan's are.
func (c *Client) ZScan(key string, opts ScanOptions) *ZScanIterator {
	return &ZScanIterator{s: newKeyScan(c, "ZSCAN", key, 2, opts)}
}

// Next advances to the next member (see ZScan). It returns false at the end or on an
// error (see Err).
func (it *ZScanIterator) Next(ctx context.Context) bool {
	e := it.s.next(ctx)
	if e == nil {
		return false
	}
	score, err := strconv.ParseFloat(string(e[1].Str), 64)
	if err != nil {
		it.s.err = fmt.Errorf("redline: ZSCAN %s: member %q: bad score %q", it.s.key, e[0].Str, e[1].Str)
		it.s.buf = nil
		return false
	}
	it.z = Z{Member: string(e[0].Str), Score: score}
	return true
}

// Member returns the current member.
func (it *ZScanIterator) Member() string { return it.z.Member }

// Score returns the current member's score.
func (it *ZScanIterator) Score() float64 { return it.z.Score }

// Z returns the current member and its score.
func (it *ZScanIterator) Z() Z { return it.z }

// Err returns the error that ended the scan, if any.
func (it *ZScanIterator) Err() error { return it.s.err }

// Restarts returns how many times the scan started over from cursor 0 (see
// HScanIterator.Restarts).
func (it *ZScanIterator) Restarts() int { return it.s.restarts }
