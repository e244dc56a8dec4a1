package redline

import (
	"time"

	"github.com/redline-go/redline/resp"
)

// This file holds the reply of XInfoStreamFull (XINFO STREAM key FULL) and its decoder.

// XInfoStreamFull is the reply of XINFO STREAM FULL: the stream's facts, its first
// entries and its consumer groups in detail.
type XInfoStreamFull struct {
	Length               int64
	RadixTreeKeys        int64
	RadixTreeNodes       int64
	LastGeneratedID      string
	MaxDeletedEntryID    string
	EntriesAdded         int64
	RecordedFirstEntryID string
	Entries              []XMessage
	Groups               []XInfoStreamGroup
}

// XInfoStreamGroup is a consumer group in XINFO STREAM FULL. EntriesRead and Lag are -1
// when the server does not know them.
type XInfoStreamGroup struct {
	Name            string
	LastDeliveredID string
	EntriesRead     int64
	Lag             int64
	PelCount        int64
	Pending         []XInfoStreamPending
	Consumers       []XInfoStreamConsumer
}

// XInfoStreamPending is a pending entry in XINFO STREAM FULL: its ID, the consumer that
// holds it (empty in a consumer's own list), when it was last delivered and how many
// times it was.
type XInfoStreamPending struct {
	ID            string
	Consumer      string
	DeliveryTime  time.Time
	DeliveryCount int64
}

// XInfoStreamConsumer is a consumer in XINFO STREAM FULL: when it was last seen, and
// (Redis 7.2 and later; else the zero time) last active, with its pending entries.
type XInfoStreamConsumer struct {
	Name       string
	SeenTime   time.Time
	ActiveTime time.Time
	PelCount   int64
	Pending    []XInfoStreamPending
}

// decodeXInfoStreamFull returns XINFO STREAM FULL's map (RESP3) or flat array (RESP2).
func decodeXInfoStreamFull(r Result) (XInfoStreamFull, error) {
	v, err := r.typed()
	if err != nil {
		return XInfoStreamFull{}, err
	}
	var s XInfoStreamFull
	err = forPairs(v, "an XINFO STREAM FULL map", func(name string, val resp.Value) (err error) {
		switch name {
		case "length":
			s.Length, err = valueInt(val)
		case "radix-tree-keys":
			s.RadixTreeKeys, err = valueInt(val)
		case "radix-tree-nodes":
			s.RadixTreeNodes, err = valueInt(val)
		case "entries-added":
			s.EntriesAdded, err = valueInt(val)
		case "last-generated-id":
			s.LastGeneratedID, err = valueText(val)
		case "max-deleted-entry-id":
			s.MaxDeletedEntryID, err = valueText(val)
		case "recorded-first-entry-id":
			s.RecordedFirstEntryID, err = valueText(val)
		case "entries":
			s.Entries, err = xMessages(val)
		case "groups":
			s.Groups, err = xInfoStreamGroups(val)
		}
		return err
	})
	if err != nil {
		return XInfoStreamFull{}, err
	}
	return s, nil
}

func xInfoStreamGroups(v resp.Value) ([]XInfoStreamGroup, error) {
	if !isList(v) {
		return nil, typeErr(v, "an array of groups")
	}
	out := make([]XInfoStreamGroup, len(v.Elems))
	for i, e := range v.Elems {
		g := &out[i]
		g.EntriesRead, g.Lag = -1, -1
		err := forPairs(e, "a group", func(name string, val resp.Value) (err error) {
			switch name {
			case "name":
				g.Name, err = valueText(val)
			case "last-delivered-id":
				g.LastDeliveredID, err = valueText(val)
			case "entries-read":
				g.EntriesRead, err = intOr(val, -1)
			case "lag":
				g.Lag, err = intOr(val, -1)
			case "pel-count":
				g.PelCount, err = valueInt(val)
			case "pending":
				g.Pending, err = xInfoStreamPending(val, true)
			case "consumers":
				g.Consumers, err = xInfoStreamConsumers(val)
			}
			return err
		})
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

func xInfoStreamConsumers(v resp.Value) ([]XInfoStreamConsumer, error) {
	if !isList(v) {
		return nil, typeErr(v, "an array of consumers")
	}
	out := make([]XInfoStreamConsumer, len(v.Elems))
	for i, e := range v.Elems {
		c := &out[i]
		err := forPairs(e, "a consumer", func(name string, val resp.Value) (err error) {
			switch name {
			case "name":
				c.Name, err = valueText(val)
			case "seen-time":
				c.SeenTime, err = unixMilli(val)
			case "active-time":
				c.ActiveTime, err = unixMilli(val)
			case "pel-count":
				c.PelCount, err = valueInt(val)
			case "pending":
				c.Pending, err = xInfoStreamPending(val, false)
			}
			return err
		})
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// xInfoStreamPending decodes a PEL: [id, consumer, delivery ms, count] entries for a
// group's (withConsumer), [id, delivery ms, count] for a consumer's.
func xInfoStreamPending(v resp.Value, withConsumer bool) ([]XInfoStreamPending, error) {
	if !isList(v) {
		return nil, typeErr(v, "an array of pending entries")
	}
	n := 3
	if withConsumer {
		n = 4
	}
	out := make([]XInfoStreamPending, len(v.Elems))
	for i, e := range v.Elems {
		if !isList(e) || len(e.Elems) != n {
			return nil, typeErr(e, "a pending entry")
		}
		p, f := &out[i], e.Elems
		var err error
		if p.ID, err = valueText(f[0]); err != nil {
			return nil, err
		}
		if withConsumer {
			if p.Consumer, err = valueText(f[1]); err != nil {
				return nil, err
			}
			f = f[1:]
		}
		if p.DeliveryTime, err = unixMilli(f[1]); err != nil {
			return nil, err
		}
		if p.DeliveryCount, err = valueInt(f[2]); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// unixMilli returns a Unix time in milliseconds as a time.Time; the zero time for -1 or
// a null.
func unixMilli(v resp.Value) (time.Time, error) {
	ms, err := intOr(v, -1)
	if err != nil || ms < 0 {
		return time.Time{}, err
	}
	return time.UnixMilli(ms), nil
}
