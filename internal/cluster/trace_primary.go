package cluster

// ReadPrimary sends the read-only command of the call this trace records to its slot's
// primary, whatever Config's replica reads say: a command whose meaning depends on the
// node that answers it — a cursor of HSCAN, SSCAN or ZSCAN, valid on one node only —
// must not go to a replica chosen at random.
func (t *Trace) ReadPrimary() { t.primary = true }

// Node is the last node tried (nil if none): the one whose reply the call returned.
// A caller continuing a node-bound cursor compares it, and its NodeStats.SharedConns,
// with the previous step's.
func (t *Trace) Node() Node { return t.node }
