package redline

import (
	"context"
	"errors"
	"strings"

	"github.com/redline-go/redline/internal/cluster"
	"github.com/redline-go/redline/internal/topology"
)

// ScanOptions filter a cluster-wide Scan, and the HScan, SScan and ZScan of one key.
type ScanOptions struct {
	// Match is a glob pattern keys must match, with SCAN ... MATCH's rules (* ? [a-z]
	// [^a] \x); "" for all keys. A pattern whose literal beginning holds a hash tag
	// ("{user:1}:*") is read from that tag's slot only. For HScan, SScan and ZScan it is
	// their MATCH, on fields or members.
	Match string
	// Count is about how many keys one step of the scan reads (and the iterator holds);
	// 0 means 1000. For HScan, SScan and ZScan it is their COUNT hint, and 0 leaves it
	// to the server (10).
	Count int64
	// Type keeps keys of one type only (string, list, set, zset, hash, stream, or a
	// module type's name), as SCAN ... TYPE does; "" for all. Scan only: HScan, SScan
	// and ZScan fail with it set.
	Type string
}

// defaultScanCount is the keys one step aims to read when ScanOptions.Count is 0.
const defaultScanCount = 1000

// ScanIterator walks the keys of the whole cluster. Create it with Client.Scan; use it
// from one goroutine.
//
// # Guarantee
//
// Every key that exists for the whole scan is returned exactly once — also while slots
// migrate key by key (resharding) and while primaries fail over. A key created or
// deleted during the scan is returned at most once. Gaps the server leaves: a key that
// has expired but that the server has not removed yet may still be returned (SCAN
// filters those out); a slot that finishes one migration and starts moving keys in
// another within one round trip can lose keys; and keys move only as resharding tools
// move them (MIGRATE from the MIGRATING source to the IMPORTING target). Scan reads
// primaries only; a primary that is down and not yet replaced ends the scan with its
// error (see Err) after Options.MaxAttempts tries.
//
// # How
//
// The iterator reads slot by slot, not with SCAN: Redis's SCAN walks a node's whole
// keyspace with no notion of slots, so a slot that migrates during it loses keys moved
// before the cursor reached them and yields others twice; no filtering of its output
// makes that exact. Instead each step sends a slot's owner one pipeline of CLUSTER
// GETKEYSINSLOT (each an atomic snapshot of one slot) for a run of its slots, followed
// by CLUSTER NODES, the node's own view read after the snapshots:
//   - a slot the node no longer serves (its migration finished, or the node was failed
//     over) is read again from the owner that view names (and so are its other slots
//     the topology still gives it, until the topology is refreshed); Restarts counts
//     these reads;
//   - a slot it is migrating ([slot->-target]) is read from the target too, after the
//     source: keys only move from source to target, so a key is in one of the two
//     snapshots, and one found in both is returned once;
//   - a slot with more keys than asked for is read again asking for more.
//
// Keys are returned only once their slot's read is complete, so a read that starts over
// never repeats a key. Slots are read in order (owner by owner where the topology is
// contiguous); MATCH is applied by the client, TYPE by a pipelined TYPE per matching key.
//
// # Costs
//
// One round trip per step (two for a migrating slot, one more with Type), a step being
// about Count keys of one node (adapted to the keys per slot seen, at most 1024 slots).
// Every key is sent to the client, matching or not (SCAN filters on the server), and
// each step carries the node's CLUSTER NODES reply (about 100 bytes per node of the
// cluster). Memory is one step's keys, or one slot's when a slot holds more: a slot is
// always read whole. On a quiet 3-master cluster it scans about as fast as SCAN with
// COUNT 1000 (docs/PERFORMANCE.md). A step is retried (topology refreshed, backoff)
// up to Options.MaxAttempts times; each round trip is bounded by ctx and
// Options.CommandTimeout.
//
// # Permissions
//
// With ACLs the user needs CLUSTER GETKEYSINSLOT and CLUSTER NODES (besides what the
// client needs for the topology), and TYPE with read access to the keys when Type is
// set. Key patterns do not limit the keys returned (as with SCAN).
type ScanIterator struct {
	c      *Client
	match  string
	typ    string
	target int // keys a step aims to read
	width  int // slots a step reads, adapted to the keys per slot seen

	next, end int            // the slots still to read in order: [next, end)
	redo      []int          // slots to read again, before the others
	hint      map[int]string // slot → owner address learned from a node's view
	count     map[int]int    // slot → keys to ask for, for slots found bigger than target

	// denied holds the views of nodes that said they no longer serve slots the topology
	// gives them (by address); they apply while the topology is deniedIn.
	denied   map[string]*nodeView
	deniedIn *topology.Table

	buf        []string
	key        string
	err        error
	restarts   int
	fromTarget int // slots read from a migration target too (for tests)

	single *singleScan // a standalone server's SCAN walk (scan_standalone.go), else nil
}

// Scan returns an iterator over the keys of the whole cluster: see ScanIterator for
// what it guarantees and costs. On a standalone server it walks the keyspace with SCAN
// instead (scan_standalone.go: SCAN's guarantees, a key possibly twice).
//
// Commands: CLUSTER GETKEYSINSLOT slot count for a run of slots and CLUSTER NODES,
// pipelined to the slots' primary, per step; the same GETKEYSINSLOT to the target of
// a slot being migrated; TYPE key for each matching key when opts.Type is set. On a
// cluster, Redis's keyspace-walking command is not used (see ScanIterator, How).
//
// Command: SCAN cursor [MATCH pattern] [COUNT count] [TYPE type], on a standalone server.
func (c *Client) Scan(opts ScanOptions) *ScanIterator {
	it := &ScanIterator{c: c, match: opts.Match, typ: opts.Type, target: defaultScanCount, width: 16, end: numSlots}
	if opts.Count > 0 {
		it.target = int(min(opts.Count, 1<<20))
	}
	if opts.Match == "*" {
		it.match = ""
	}
	if c.e.Single() {
		it.single = &singleScan{}
		return it
	}
	if slot, ok := patternSlot(opts.Match); ok {
		it.next, it.end = slot, slot+1
	}
	return it
}

// numSlots is the number of hash slots of a Redis Cluster.
const numSlots = 16384

// Next advances to the next key, reading from the cluster as needed within ctx (each
// round trip bounded by CommandTimeout too). It returns false at the end or on an error
// (see Err).
func (it *ScanIterator) Next(ctx context.Context) bool {
	for len(it.buf) == 0 {
		if it.err != nil || it.next >= it.end && len(it.redo) == 0 {
			return false
		}
		if it.single != nil {
			it.stepSingle(ctx)
			continue
		}
		it.step(ctx)
	}
	it.key, it.buf = it.buf[0], it.buf[1:]
	return true
}

// Key returns the current key.
func (it *ScanIterator) Key() string { return it.key }

// Err returns the error that ended the scan, if any.
func (it *ScanIterator) Err() error { return it.err }

// Restarts returns how many reads found that the node read no longer served some of
// the slots asked for (a finished migration, a failover), which were then read again
// from their new owner. A slot read again never yields a key twice: this counts work,
// not a loss of exactness.
func (it *ScanIterator) Restarts() int { return it.restarts }

// step reads the next run of slots, retrying what failed (with the topology refreshed
// and a backoff) until a slot is done or MaxAttempts tries failed.
func (it *ScanIterator) step(ctx context.Context) {
	c := it.c
	backoff := c.opts.RetryBackoff
	for attempt := 1; ; attempt++ {
		addr, slots := it.chunk()
		done, err := it.read(ctx, addr, slots)
		if done > 0 {
			return
		}
		if !retryableScanErr(err) || attempt >= c.opts.MaxAttempts || ctx.Err() != nil {
			it.err = err
			return
		}
		c.e.TriggerRefresh()
		if attempt == 1 && errors.Is(err, errScanRestart) {
			continue // the node named the new owner: read there at once
		}
		w := c.e.Waiter(ctx)
		ok := cluster.Sleep(&w, cluster.Jitter(backoff))
		w.Release()
		if !ok {
			it.err = err
			return
		}
		backoff = min(2*backoff, c.opts.RetryBackoffMax)
	}
}

// chunk takes the slots of the next step off the queue: slots to read again first,
// then the next slots in order, as long as they have the same owner (up to width).
// The address is "" for a slot no node serves.
func (it *ScanIterator) chunk() (string, []int) {
	t := it.c.e.Topology()
	if t != it.deniedIn {
		it.denied = nil
	}
	owner := func(slot int) string {
		if a, ok := it.hint[slot]; ok {
			return a
		}
		s := t.Slot(slot)
		if s == nil {
			return ""
		}
		// A node that said it no longer serves slots the topology still gives it: go
		// where it says they are, until the topology is refreshed.
		if v := it.denied[s.Primary.Addr]; v != nil && !v.owns(slot) {
			if a := it.c.addrOfID(v.owner(slot), v); a != "" {
				return a
			}
		}
		return s.Primary.Addr
	}
	var slots []int
	var addr string
	if len(it.redo) > 0 {
		addr = owner(it.redo[0])
		rest := it.redo[:0]
		for _, s := range it.redo {
			if len(slots) < it.width && owner(s) == addr {
				slots = append(slots, s)
			} else {
				rest = append(rest, s)
			}
		}
		it.redo = rest
		return addr, slots
	}
	addr = owner(it.next)
	for len(slots) < it.width && it.next < it.end && owner(it.next) == addr {
		slots = append(slots, it.next)
		it.next++
	}
	return addr, slots
}

// ofType keeps the keys whose TYPE is it.typ (keys gone meanwhile are "none": dropped).
func (it *ScanIterator) ofType(ctx context.Context, keys []string) ([]string, error) {
	if it.typ == "" || len(keys) == 0 {
		return keys, nil
	}
	cmds := make([]Command, len(keys))
	for i, k := range keys {
		cmds[i] = Cmd("TYPE", k)
	}
	out := keys[:0]
	for i, r := range it.c.DoMulti(ctx, cmds...) {
		typ, err := r.Text()
		if err != nil {
			return nil, err
		}
		if strings.EqualFold(typ, it.typ) {
			out = append(out, keys[i])
		}
	}
	return out, nil
}
