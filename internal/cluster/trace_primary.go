package cluster

// ReadPrimary sends the read-only command of the call this trace records to its slot's
// primary, whatever Config's replica reads say: a command whose meaning depends on the
// node that answers it — a cursor of HSCAN, SSCAN or ZSCAN, valid on one node only —
// must not go to a replica chosen at random.
func (t *Trace) ReadPrimary() { t.primary = true }
