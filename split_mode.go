package redline

import (
	"fmt"

	"github.com/redline-go/redline/internal/cluster"
)

// SplitMode says which multi-key commands redline splits by slot when their keys span
// several slots (Options.Split). A split command is sent as one command per slot, in
// parallel, its replies merged in the caller's key order: it is atomic per slot only,
// and a part may fail while others were applied (*SplitError says which). A command
// not split fails with *CrossSlotError before anything is sent, as Redis itself (and
// go-redis) answer CROSSSLOT: it stays atomic. Keys of one slot ({hash tags}) are
// always sent whole.
type SplitMode uint8

const (
	// SplitAll splits MGET, MSET, DEL, UNLINK, EXISTS and TOUCH (the default).
	SplitAll SplitMode = SplitMode(cluster.SplitAll)
	// SplitReads splits the read-only ones, MGET, EXISTS and TOUCH; MSET, DEL and
	// UNLINK across slots fail with *CrossSlotError.
	SplitReads SplitMode = SplitMode(cluster.SplitReads)
	// SplitNone splits nothing: every command's keys must share a slot.
	SplitNone SplitMode = SplitMode(cluster.SplitNone)
)

// String returns all, reads or none.
func (m SplitMode) String() string {
	switch m {
	case SplitAll:
		return "all"
	case SplitReads:
		return "reads"
	case SplitNone:
		return "none"
	}
	return fmt.Sprintf("SplitMode(%d)", m)
}

// ParseSplitMode parses a SplitMode name as String prints it.
func ParseSplitMode(s string) (SplitMode, error) {
	for m := SplitAll; m <= SplitNone; m++ {
		if m.String() == s {
			return m, nil
		}
	}
	return 0, fmt.Errorf("redline: unknown SplitMode %q (want all, reads or none)", s)
}
