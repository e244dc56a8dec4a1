package cache

// The key index: for each key, the entries that read it, so that an invalidation of
// the key finds them. Each key's entries form a doubly linked list threaded through
// the entries themselves (one keyLink per key an entry read), its head in the shard
// of the key (byKey, under kmu): adding or dropping an entry costs O(1) per key, and
// an invalidation detaches the key's whole list at once. A key read by many entries
// (HGET of many fields of one hash) is dropped in time linear in their number —
// it runs on the connection's reader, ahead of every reply behind it.

// keyLink is an entry's place in the list of the entries that read one of its keys.
// Its fields other than e and key are under the key's shard's kmu.
type keyLink struct {
	e          *entry
	key        string
	prev, next *keyLink
	on         bool // in its key's list
}

// linksOf returns the links of an entry that read keys.
func linksOf(e *entry, keys []string) []keyLink {
	links := make([]keyLink, len(keys))
	for i, k := range keys {
		links[i] = keyLink{e: e, key: k}
	}
	return links
}

// index adds e to the list of each of its keys, unless it died meanwhile (Close): its
// kill marks it dead before unindex takes the lock, so one of the two sees the other.
func (s *Store) index(e *entry) {
	for i := range e.links {
		l := &e.links[i]
		ks := s.shardOfString(l.key)
		ks.kmu.Lock()
		if e.state.Load() == stateDead {
			ks.kmu.Unlock()
			return
		}
		if head := ks.byKey[l.key]; head != nil {
			l.next = head
			head.prev = l
		}
		ks.byKey[l.key] = l
		l.on = true
		ks.kmu.Unlock()
	}
}

// unindex removes e from the lists it is still in (an invalidation may have detached
// some already).
func (s *Store) unindex(e *entry) {
	for i := range e.links {
		l := &e.links[i]
		ks := s.shardOfString(l.key)
		ks.kmu.Lock()
		if l.on {
			switch {
			case l.prev != nil:
				l.prev.next = l.next
			case l.next != nil:
				ks.byKey[l.key] = l.next
			default:
				delete(ks.byKey, l.key)
			}
			if l.next != nil {
				l.next.prev = l.prev
			}
			l.prev, l.next, l.on = nil, nil, false
		}
		ks.kmu.Unlock()
	}
}

// detach removes key's list from the index, makes its entries dead and returns those
// this call killed, for the caller to drop; found reports whether the key had a list.
// The entries die under the lock: a concurrent Invalidate of the key (the client's
// own after its write returned, and the server's push of the same write on the
// connection's reader) that finds the list gone must find them dead already, or it
// would return while one still hits.
func (s *Store) detach(key string) (victims []*entry, found bool) {
	ks := s.shardOfString(key)
	ks.kmu.Lock()
	defer ks.kmu.Unlock()
	head := ks.byKey[key]
	if head == nil {
		return nil, false
	}
	delete(ks.byKey, key)
	n := 0
	for l := head; l != nil; l = l.next {
		n++
	}
	victims = make([]*entry, 0, n)
	for l := head; l != nil; {
		next := l.next
		l.prev, l.next, l.on = nil, nil, false
		if l.e.die() {
			victims = append(victims, l.e)
		}
		l = next
	}
	return victims, true
}
