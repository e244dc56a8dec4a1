package topology

// Choose picks one view of the cluster among the tables built from several nodes' replies
// (nil entries, for nodes that did not answer, are ignored). The view shared by the most
// nodes ([Table.Equal]) wins; a tie goes to the view covering more slots, then to the one
// listed first. It returns nil, 0 when every entry is nil, and otherwise the chosen table
// (the first of its equals) and how many views agree with it, so that the caller can log
// disagreement (agreeing < number of non-nil views).
//
// It compares views pairwise: meant for the few nodes a refresh asks, not for hundreds.
func Choose(views []*Table) (best *Table, agreeing int) {
	for i, v := range views {
		if v == nil || counted(views[:i], v) {
			continue
		}
		n := 1
		for _, u := range views[i+1:] {
			if u != nil && u.Equal(v) {
				n++
			}
		}
		if best == nil || n > agreeing || (n == agreeing && v.covered > best.covered) {
			best, agreeing = v, n
		}
	}
	return best, agreeing
}

// counted reports whether a view equal to v is among earlier.
func counted(earlier []*Table, v *Table) bool {
	for _, u := range earlier {
		if u != nil && u.Equal(v) {
			return true
		}
	}
	return false
}
