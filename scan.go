package redline

import (
	"context"
	"strconv"
)

// ScanOptions filter a cluster-wide SCAN.
type ScanOptions struct {
	Match string // MATCH pattern; "" for all keys
	Count int64  // COUNT hint per call; 0 for the server's default
	Type  string // TYPE filter (string, list, hash, …); "" for all
}

// ScanIterator walks the keys of every shard with SCAN, one shard after another. Create
// it with Client.Scan; use it from one goroutine.
//
// Each shard is followed by slot, not by address: if a shard's primary changes during the
// scan (failover), the scan of that shard restarts from cursor 0 on the new primary —
// keys of that shard may then be returned twice, never missed — and Restarts counts it.
type ScanIterator struct {
	c       *Client
	opts    ScanOptions
	shards  []int    // one slot of each shard, in order
	addrs   []string // the primary each shard's scan runs on
	i       int
	cursor  string
	started bool
	buf     []string
	key     string
	err     error
	restart int
}

// Scan returns an iterator over the keys of the whole cluster (every primary).
func (c *Client) Scan(opts ScanOptions) *ScanIterator {
	it := &ScanIterator{c: c, opts: opts, cursor: "0"}
	for _, s := range c.topo.Load().Shards() {
		if len(s.Ranges) > 0 {
			it.shards = append(it.shards, s.Ranges[0][0])
			it.addrs = append(it.addrs, s.Primary.Addr)
		}
	}
	return it
}

// Next advances to the next key, calling SCAN as needed within ctx (each call bounded by
// CommandTimeout too). It returns false at the end or on an error (see Err).
func (it *ScanIterator) Next(ctx context.Context) bool {
	for len(it.buf) == 0 {
		if it.err != nil || it.i >= len(it.shards) {
			return false
		}
		if it.started && it.cursor == "0" { // this shard is done
			it.i++
			it.started = false
			continue
		}
		it.scanOnce(ctx)
	}
	it.key, it.buf = it.buf[0], it.buf[1:]
	return true
}

func (it *ScanIterator) scanOnce(ctx context.Context) {
	slot := it.shards[it.i]
	s := it.c.topo.Load().Slot(slot)
	if s == nil {
		it.err = errUncovered(slot)
		return
	}
	if s.Primary.Addr != it.addrs[it.i] { // failover or resharding: start this shard over
		it.addrs[it.i] = s.Primary.Addr
		it.cursor, it.started = "0", false
		it.restart++
	}
	args := []any{"SCAN", it.cursor}
	if it.opts.Match != "" {
		args = append(args, "MATCH", it.opts.Match)
	}
	if it.opts.Count > 0 {
		args = append(args, "COUNT", strconv.FormatInt(it.opts.Count, 10))
	}
	if it.opts.Type != "" {
		args = append(args, "TYPE", it.opts.Type)
	}
	cctx, cancel := it.c.deriveCtx(ctx)
	defer cancel()
	r := it.c.doNode(cctx, it.c.node(s.Primary.Addr), args)
	vals, err := r.Slice()
	if err == nil && len(vals) != 2 {
		err = typeErr(r.val, "a [cursor, keys] pair")
	}
	if err != nil {
		it.err = err
		return
	}
	if it.cursor, err = vals[0].Text(); err != nil {
		it.err = err
		return
	}
	it.started = true
	if it.buf, err = vals[1].Strings(); err != nil {
		it.err = err
	}
}

// Key returns the current key.
func (it *ScanIterator) Key() string { return it.key }

// Err returns the error that ended the scan, if any.
func (it *ScanIterator) Err() error { return it.err }

// Restarts returns how many shards' scans restarted from the beginning because their
// primary changed (their keys may have been returned twice).
func (it *ScanIterator) Restarts() int { return it.restart }
