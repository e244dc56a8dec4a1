package redline

import (
	"time"

	"github.com/redline-go/redline/resp"
)

// This file holds the types, arguments and reply decoders of the stream methods of
// issue 18 (XPendingExt, XClaim, XAutoClaim, XInfo…; commands_gen.go).

// XPendingExtArgs are the arguments of XPendingExt after the stream and the group.
type XPendingExtArgs struct {
	// Idle returns only entries idle at least this long (IDLE, in milliseconds); 0
	// means any.
	Idle time.Duration
	// Start and End bound the IDs returned, both included; "" means "-" (the lowest) and
	// "+" (the highest).
	Start, End string
	// Count is the most entries returned.
	Count int64
	// Consumer returns only the entries this consumer holds; "" means every consumer's.
	Consumer string
}

func (a *XPendingExtArgs) appendArgs(args []any) []any {
	if a.Idle > 0 {
		args = append(args, "IDLE", msArg(a.Idle))
	}
	start, end := a.Start, a.End
	if start == "" {
		start = "-"
	}
	if end == "" {
		end = "+"
	}
	args = append(args, start, end, a.Count)
	if a.Consumer != "" {
		args = append(args, a.Consumer)
	}
	return args
}

// XPendingEntry is one pending entry of a consumer group: its ID, the consumer holding
// it, how long since it was last delivered and how many times it was.
type XPendingEntry struct {
	ID         string
	Consumer   string
	Idle       time.Duration
	RetryCount int64
}

// XClaimOptions are the options of XClaim and XClaimJustID; nil sets none.
type XClaimOptions struct {
	// Idle sets the claimed entries' idle time (IDLE); 0 resets it, as usual.
	Idle time.Duration
	// Time sets the claimed entries' last delivery time (TIME); the zero time means now.
	Time time.Time
	// RetryCount sets the claimed entries' delivery count (RETRYCOUNT); 0 leaves it
	// counted as usual.
	RetryCount int64
	// Force claims IDs that are not pending yet, if they exist in the stream (FORCE).
	Force bool
	// LastID sets the group's last delivered ID (LASTID); "" leaves it.
	LastID string
}

func (o *XClaimOptions) appendArgs(args []any) []any {
	if o == nil {
		return args
	}
	if o.Idle > 0 {
		args = append(args, "IDLE", msArg(o.Idle))
	}
	if !o.Time.IsZero() {
		args = append(args, "TIME", o.Time.UnixMilli())
	}
	if o.RetryCount > 0 {
		args = append(args, "RETRYCOUNT", o.RetryCount)
	}
	args = appendFlag(args, o.Force, "FORCE")
	if o.LastID != "" {
		args = append(args, "LASTID", o.LastID)
	}
	return args
}

// XAutoClaimResult is what XAutoClaim returns: the entries claimed, the ID to scan from
// next ("0-0" when the whole pending list was scanned) and the IDs of pending entries
// found deleted from the stream (and removed from the pending list).
type XAutoClaimResult struct {
	Next     string
	Messages []XMessage
	Deleted  []string
}

// XAutoClaimIDsResult is XAutoClaimResult with the claimed entries' IDs only
// (XAutoClaimJustID).
type XAutoClaimIDsResult struct {
	Next    string
	IDs     []string
	Deleted []string
}

// XInfoStream is the reply of XINFO STREAM. FirstEntry and LastEntry are nil for an
// empty stream.
type XInfoStream struct {
	Length               int64
	RadixTreeKeys        int64
	RadixTreeNodes       int64
	Groups               int64
	LastGeneratedID      string
	MaxDeletedEntryID    string
	EntriesAdded         int64
	RecordedFirstEntryID string
	FirstEntry           *XMessage
	LastEntry            *XMessage
}

// XInfoGroup is a consumer group as XINFO GROUPS describes it. EntriesRead and Lag are
// -1 when the server does not know them (a null reply).
type XInfoGroup struct {
	Name            string
	Consumers       int64
	Pending         int64
	LastDeliveredID string
	EntriesRead     int64
	Lag             int64
}

// XInfoConsumer is a consumer of a group as XINFO CONSUMERS describes it: its pending
// entries, the time since it was last seen, and (Redis 7.2 and later; else -1) since it
// last read or claimed successfully.
type XInfoConsumer struct {
	Name     string
	Pending  int64
	Idle     time.Duration
	Inactive time.Duration
}

// decodeXPendingExt returns the extended form of XPENDING: [[id, consumer, idle ms,
// deliveries], …].
func decodeXPendingExt(r Result) ([]XPendingEntry, error) {
	v, err := r.typed()
	if err != nil {
		return nil, err
	}
	if !isList(v) {
		return nil, typeErr(v, "an array of pending entries")
	}
	out := make([]XPendingEntry, len(v.Elems))
	for i, e := range v.Elems {
		if !isList(e) || len(e.Elems) != 4 {
			return nil, typeErr(e, "an [id, consumer, idle, deliveries] pending entry")
		}
		p := &out[i]
		if p.ID, err = valueText(e.Elems[0]); err != nil {
			return nil, err
		}
		if p.Consumer, err = valueText(e.Elems[1]); err != nil {
			return nil, err
		}
		idle, err := valueInt(e.Elems[2])
		if err != nil {
			return nil, err
		}
		p.Idle = time.Duration(idle) * time.Millisecond
		if p.RetryCount, err = valueInt(e.Elems[3]); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// xAutoClaim splits XAUTOCLAIM's [next, claimed, deleted] reply (Redis 7; 6.2 has no
// deleted list).
func xAutoClaim(r Result) (next string, claimed resp.Value, deleted []string, err error) {
	v, err := r.typed()
	if err != nil {
		return "", resp.Value{}, nil, err
	}
	if !isList(v) || len(v.Elems) < 2 || len(v.Elems) > 3 {
		return "", resp.Value{}, nil, typeErr(v, "an XAUTOCLAIM [next, entries, deleted] reply")
	}
	if next, err = valueText(v.Elems[0]); err != nil {
		return "", resp.Value{}, nil, err
	}
	if len(v.Elems) == 3 {
		if deleted, err = (Result{val: v.Elems[2]}).Strings(); err != nil {
			return "", resp.Value{}, nil, err
		}
	}
	return next, v.Elems[1], deleted, nil
}

// decodeXAutoClaim returns XAUTOCLAIM's reply.
func decodeXAutoClaim(r Result) (XAutoClaimResult, error) {
	next, claimed, deleted, err := xAutoClaim(r)
	if err != nil {
		return XAutoClaimResult{}, err
	}
	msgs, err := xMessages(claimed)
	if err != nil {
		return XAutoClaimResult{}, err
	}
	return XAutoClaimResult{Next: next, Messages: msgs, Deleted: deleted}, nil
}

// decodeXAutoClaimIDs returns XAUTOCLAIM's reply with JUSTID.
func decodeXAutoClaimIDs(r Result) (XAutoClaimIDsResult, error) {
	next, claimed, deleted, err := xAutoClaim(r)
	if err != nil {
		return XAutoClaimIDsResult{}, err
	}
	ids, err := (Result{val: claimed}).Strings()
	if err != nil {
		return XAutoClaimIDsResult{}, err
	}
	return XAutoClaimIDsResult{Next: next, IDs: ids, Deleted: deleted}, nil
}

// decodeXInfoStream returns XINFO STREAM's map (RESP3) or flat array (RESP2).
func decodeXInfoStream(r Result) (XInfoStream, error) {
	v, err := r.typed()
	if err != nil {
		return XInfoStream{}, err
	}
	pairs, err := mapPairs(v, "an XINFO STREAM map")
	if err != nil {
		return XInfoStream{}, err
	}
	var s XInfoStream
	for i := 0; i < len(pairs); i += 2 {
		name, err := valueText(pairs[i])
		if err != nil {
			return XInfoStream{}, err
		}
		val := pairs[i+1]
		switch name {
		case "length":
			s.Length, err = valueInt(val)
		case "radix-tree-keys":
			s.RadixTreeKeys, err = valueInt(val)
		case "radix-tree-nodes":
			s.RadixTreeNodes, err = valueInt(val)
		case "groups":
			s.Groups, err = valueInt(val)
		case "entries-added":
			s.EntriesAdded, err = valueInt(val)
		case "last-generated-id":
			s.LastGeneratedID, err = valueText(val)
		case "max-deleted-entry-id":
			s.MaxDeletedEntryID, err = valueText(val)
		case "recorded-first-entry-id":
			s.RecordedFirstEntryID, err = valueText(val)
		case "first-entry", "last-entry":
			if val.IsNull() {
				continue
			}
			var ms []XMessage
			if ms, err = xMessages(resp.Value{Type: resp.TypeArray, Elems: []resp.Value{val}}); err == nil {
				if name == "first-entry" {
					s.FirstEntry = &ms[0]
				} else {
					s.LastEntry = &ms[0]
				}
			}
		}
		if err != nil {
			return XInfoStream{}, err
		}
	}
	return s, nil
}

// xInfoList decodes an array of maps (RESP3) or flat arrays (RESP2), calling field
// for each name and value of element i.
func xInfoList(r Result, what string, n func(int), field func(i int, name string, val resp.Value) error) error {
	v, err := r.typed()
	if err != nil {
		return err
	}
	if !isList(v) {
		return typeErr(v, "an array of "+what)
	}
	n(len(v.Elems))
	for i, e := range v.Elems {
		pairs, err := mapPairs(e, what)
		if err != nil {
			return err
		}
		for j := 0; j < len(pairs); j += 2 {
			name, err := valueText(pairs[j])
			if err != nil {
				return err
			}
			if err := field(i, name, pairs[j+1]); err != nil {
				return err
			}
		}
	}
	return nil
}

// intOr returns an integer reply, or def for a null.
func intOr(v resp.Value, def int64) (int64, error) {
	if v.IsNull() {
		return def, nil
	}
	return valueInt(v)
}

// decodeXInfoGroups returns XINFO GROUPS's reply.
func decodeXInfoGroups(r Result) ([]XInfoGroup, error) {
	var out []XInfoGroup
	err := xInfoList(r, "XINFO GROUPS groups", func(n int) { out = make([]XInfoGroup, n) },
		func(i int, name string, val resp.Value) (err error) {
			g := &out[i]
			switch name {
			case "name":
				g.Name, err = valueText(val)
			case "consumers":
				g.Consumers, err = valueInt(val)
			case "pending":
				g.Pending, err = valueInt(val)
			case "last-delivered-id":
				g.LastDeliveredID, err = valueText(val)
			case "entries-read":
				g.EntriesRead, err = intOr(val, -1)
			case "lag":
				g.Lag, err = intOr(val, -1)
			}
			return err
		})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// decodeXInfoConsumers returns XINFO CONSUMERS's reply.
func decodeXInfoConsumers(r Result) ([]XInfoConsumer, error) {
	var out []XInfoConsumer
	err := xInfoList(r, "XINFO CONSUMERS consumers", func(n int) {
		out = make([]XInfoConsumer, n)
		for i := range out {
			out[i].Inactive = -1
		}
	}, func(i int, name string, val resp.Value) error {
		c := &out[i]
		var n int64
		var err error
		switch name {
		case "name":
			c.Name, err = valueText(val)
		case "pending":
			c.Pending, err = valueInt(val)
		case "idle":
			n, err = valueInt(val)
			c.Idle = time.Duration(n) * time.Millisecond
		case "inactive":
			if n, err = intOr(val, -1); n >= 0 {
				c.Inactive = time.Duration(n) * time.Millisecond
			}
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
