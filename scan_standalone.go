package redline

import (
	"context"
	"fmt"
	"strconv"
)

// On a standalone server there are no slots to read one by one (CLUSTER
// GETKEYSINSLOT is a cluster command): Scan walks the server's keyspace with SCAN,
// cursor by cursor, with ScanOptions's MATCH, COUNT and TYPE. SCAN's own guarantees
// apply: every key present for the whole scan is returned, at least once (a key may come
// twice when the server rehashes its table during the scan).

// singleScan is the state of a Scan of a standalone server.
type singleScan struct {
	cursor string // "" before the first step
}

// stepSingle reads one SCAN step from the server, retried as Do retries a read.
func (it *ScanIterator) stepSingle(ctx context.Context) {
	c := it.c
	ps := c.e.PrimaryAddrs()
	if len(ps) != 1 {
		it.err = fmt.Errorf("redline: Scan: a standalone client's topology has %d primaries", len(ps))
		return
	}
	cursor := it.single.cursor
	if cursor == "" {
		cursor = "0"
	}
	args := []any{"SCAN", cursor, "COUNT", strconv.Itoa(it.target)}
	if it.match != "" {
		args = append(args, "MATCH", it.match)
	}
	if it.typ != "" {
		args = append(args, "TYPE", it.typ)
	}
	r := c.DoOn(ctx, ps[0], args...)
	if err := r.Err(); err != nil {
		it.err = err
		return
	}
	next, elems, err := scanReply(r.val, 1)
	if err != nil {
		it.err = fmt.Errorf("redline: Scan: SCAN: %w", err)
		return
	}
	for _, e := range elems {
		it.buf = append(it.buf, string(e.Str))
	}
	it.single.cursor = next
	if next == "0" {
		it.next = it.end // the walk is over
	}
}
