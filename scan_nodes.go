package redline

import (
	"bytes"
	"errors"
	"strconv"
)

// nodeView is what one node's CLUSTER NODES says about the slots: which it serves
// itself, which of those it is migrating (and to whom), and — read only when needed —
// who the others are and what they serve. Redis marks migrations only on the node's
// own line ("myself"): [slot->-targetID] on the source, [slot-<-sourceID] on the target.
type nodeView struct {
	text    []byte
	primary bool              // the node is a primary
	own     [][2]int          // the slot ranges it serves (inclusive)
	migrate map[int]string    // slot → ID of the node it is moving the slot's keys to
	others  []slotOwner       // every primary's ranges, parsed on first use by owner
	addrs   map[string]string // node ID → client address, as Client.addrOfID found it
}

// slotOwner is one slot range of a primary in a node's view.
type slotOwner struct {
	r  [2]int
	id string
}

// parseNodeView reads the node's own line of a CLUSTER NODES reply.
func parseNodeView(text []byte) (*nodeView, error) {
	v := &nodeView{text: text}
	for line := range bytes.Lines(text) {
		if !bytes.Contains(line, []byte("myself")) { // split only the likely line
			continue
		}
		f := bytes.Fields(line)
		if len(f) < 8 || !hasFlag(f[2], "myself") {
			continue
		}
		v.primary = hasFlag(f[2], "master")
		for _, tok := range f[8:] {
			if tok[0] == '[' { // [slot->-id] or [slot-<-id]
				slot, id, ok := bytes.Cut(bytes.Trim(tok, "[]"), []byte("->-"))
				if !ok {
					continue // importing: the slot is not this node's
				}
				n, err := strconv.Atoi(string(slot))
				if err != nil {
					return nil, errors.New("redline: CLUSTER NODES: bad migration marker " + string(tok))
				}
				if v.migrate == nil {
					v.migrate = map[int]string{}
				}
				v.migrate[n] = string(id)
				continue
			}
			r, err := parseSlotRange(tok)
			if err != nil {
				return nil, err
			}
			v.own = append(v.own, r)
		}
		return v, nil
	}
	return nil, errors.New("redline: CLUSTER NODES reply has no line for the node itself")
}

// owns reports whether the node serves slot itself.
func (v *nodeView) owns(slot int) bool {
	if !v.primary {
		return false
	}
	for _, r := range v.own {
		if slot >= r[0] && slot <= r[1] {
			return true
		}
	}
	return false
}

// owner returns the ID of the node that serves slot in this node's view, or "".
func (v *nodeView) owner(slot int) string {
	if v.others == nil {
		v.others = []slotOwner{}
		for line := range bytes.Lines(v.text) {
			f := bytes.Fields(line)
			if len(f) < 8 || !hasFlag(f[2], "master") || hasFlag(f[2], "fail") {
				continue
			}
			id := string(f[0])
			for _, tok := range f[8:] {
				if tok[0] == '[' {
					continue
				}
				if r, err := parseSlotRange(tok); err == nil {
					v.others = append(v.others, slotOwner{r, id})
				}
			}
		}
	}
	for _, o := range v.others {
		if slot >= o.r[0] && slot <= o.r[1] {
			return o.id
		}
	}
	return ""
}

// addr returns the client address of the node with the given ID in this node's view
// ("host:port", from "ip:port@cport[,hostname]"), or "".
func (v *nodeView) addr(id string) string {
	for line := range bytes.Lines(v.text) {
		f := bytes.Fields(line)
		if len(f) < 2 || string(f[0]) != id {
			continue
		}
		a, _, _ := bytes.Cut(f[1], []byte("@"))
		a, _, _ = bytes.Cut(a, []byte(","))
		if len(a) == 0 || a[0] == ':' { // no address known
			return ""
		}
		return string(a)
	}
	return ""
}

func hasFlag(flags []byte, f string) bool {
	for fl := range bytes.SplitSeq(flags, []byte(",")) {
		if string(fl) == f {
			return true
		}
	}
	return false
}

// parseSlotRange parses "5461" or "0-5460".
func parseSlotRange(tok []byte) ([2]int, error) {
	lo, hi, isRange := bytes.Cut(tok, []byte("-"))
	a, err := strconv.Atoi(string(lo))
	b := a
	if err == nil && isRange {
		b, err = strconv.Atoi(string(hi))
	}
	if err != nil || a < 0 || b < a || b >= 16384 {
		return [2]int{}, errors.New("redline: CLUSTER NODES: bad slot range " + string(tok))
	}
	return [2]int{a, b}, nil
}
