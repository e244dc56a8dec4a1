package cluster

import (
	"context"
	"time"

	"github.com/redline-go/redline/internal/command"
	"github.com/redline-go/redline/resp"
)

// What DoMulti decides for the commands around its reads and barriers: which slots it
// writes (reads of them go to the primary), and how a blocking command is bounded.

// planWrites records, before anything is sent, the slots the DoMulti's commands may
// write, wherever they are (before or after a read, in a transaction, blocking): a read
// of such a slot goes to the primary, in its place in the primary's pipeline, so it sees
// the writes before it and none after it. A write with no key (FLUSHALL, FLUSHDB, a
// keyless script…) or a command the table does not know counts as writing every slot.
// Only needed when reads may go to replicas.
func (m *multiRun) planWrites() {
	var buf [16]int
	for _, cmd := range m.cmds {
		args := cmd
		if len(args) == 0 || resp.CheckArgs(args) != nil {
			continue // not sent
		}
		info := command.Lookup(args)
		switch {
		case info == nil:
			m.writeAll = true
			return
		case info.ConnState != command.ConnNone || info.ReadOnly():
			continue // MULTI, EXEC, WATCH… write nothing themselves
		}
		idx, _ := info.SlotIndexes(args, buf[:0])
		if len(idx) == 0 {
			if info.Has(command.FlagWrite) || info.Has(command.FlagMayReplicate) ||
				info.Has(command.FlagNoMandatoryKeys) {
				m.writeAll = true
				return
			}
			continue
		}
		if m.written == nil {
			m.written = map[int]bool{}
		}
		for _, k := range idx {
			m.written[m.c.KeySlot(args[k])] = true
		}
	}
}

// replicaRead reports whether a read of slot may go to a replica: nothing in the
// DoMulti writes it.
func (m *multiRun) replicaRead(slot int) bool {
	return !m.writeAll && !m.written[slot]
}

// blocking runs the blocking command i as Do runs it: under the caller's context, its
// server-side wait not bounded by CommandTimeout. The commands after it keep what was
// left of CommandTimeout when it began: the time it took moves their deadline.
func (m *multiRun) blocking(i int, args []any) {
	start := time.Now()
	var tr Trace
	m.results[i] = m.c.Do(m.caller, args, &tr)
	m.mt.add(&tr)
	m.deadline = m.deadline.Add(time.Since(start))
	m.cancel()
	m.ctx, m.cancel = context.WithDeadline(m.caller, m.deadline)
}
