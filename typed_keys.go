package redline

import "time"

// This file holds the value types and option structs of the typed methods of the
// string, key, list, hash and bitmap commands added for issue 18 (LCSIdx, Restore,
// Sort, LPos, HRandFieldWithValues…). Their reply decoders are in typed_keys_decode.go.

// FieldValue is a field of a hash with its value (HRandFieldWithValues).
type FieldValue struct {
	Field string
	Value string
}

// LCSMatch is what LCSIdx returns: the ranges of the longest common subsequence of two
// strings, longest first, and its length.
type LCSMatch struct {
	Matches []LCSMatchedPosition
	Len     int64
}

// LCSMatchedPosition is one range of a longest common subsequence: where it is in the
// first string and in the second, and its length (0 unless
// LCSIdxOptions.WithMatchLen).
type LCSMatchedPosition struct {
	Key1     LCSPosition
	Key2     LCSPosition
	MatchLen int64
}

// LCSPosition is a range of a string: byte offsets, both included.
type LCSPosition struct {
	Start, End int64
}

// LCSIdxOptions are the options of LCSIdx; nil for none.
type LCSIdxOptions struct {
	// MinMatchLen leaves out the ranges shorter than it (MINMATCHLEN); 0 for none.
	MinMatchLen int64
	// WithMatchLen returns each range's length (WITHMATCHLEN).
	WithMatchLen bool
}

func (o *LCSIdxOptions) appendArgs(args []any) []any {
	if o == nil {
		return args
	}
	if o.MinMatchLen != 0 {
		args = append(args, "MINMATCHLEN", o.MinMatchLen)
	}
	return appendFlag(args, o.WithMatchLen, "WITHMATCHLEN")
}

// RestoreOptions are the options of Restore and RestoreAt; nil for none.
type RestoreOptions struct {
	// Replace replaces the key when it exists (REPLACE) instead of failing with BUSYKEY.
	Replace bool
	// IdleTime sets the key's idle time, in seconds (IDLETIME; rounded down), for the
	// LRU eviction policies; 0 leaves it unset.
	IdleTime time.Duration
	// Freq sets the key's access frequency counter (FREQ, 0 to 255), for the LFU
	// eviction policies; 0 leaves it unset.
	Freq int64
}

func (o *RestoreOptions) appendArgs(args []any) []any {
	if o == nil {
		return args
	}
	args = appendFlag(args, o.Replace, "REPLACE")
	if o.IdleTime != 0 {
		args = append(args, "IDLETIME", int64(o.IdleTime/time.Second))
	}
	if o.Freq != 0 {
		args = append(args, "FREQ", o.Freq)
	}
	return args
}

// SortOptions are the options of Sort, SortStore and SortRO; nil sorts the elements as
// numbers, ascending.
type SortOptions struct {
	// By sorts by the values of the keys this pattern names ("weight_*": * is replaced
	// by each element; "nosort" keeps the elements' order) instead of the elements
	// themselves (BY). "" for none.
	By string
	// Offset and Count return Count elements from the Offset-th (LIMIT). When both are 0
	// every element is returned; Count 0 with an Offset returns all from Offset on.
	Offset, Count int64
	// Get returns, for each element, the values of the keys these patterns name instead
	// of the element ("#" is the element itself), one after the other (GET).
	Get []string
	// Desc sorts in descending order (DESC).
	Desc bool
	// Alpha sorts lexicographically instead of as numbers (ALPHA).
	Alpha bool
}

func (o *SortOptions) appendArgs(args []any) []any {
	if o == nil {
		return args
	}
	if o.By != "" {
		args = append(args, "BY", o.By)
	}
	if o.Offset != 0 || o.Count != 0 {
		count := o.Count
		if count == 0 {
			count = -1 // all
		}
		args = append(args, "LIMIT", o.Offset, count)
	}
	for _, g := range o.Get {
		args = append(args, "GET", g)
	}
	args = appendFlag(args, o.Desc, "DESC")
	return appendFlag(args, o.Alpha, "ALPHA")
}

// LPosOptions are the options of LPos and LPosCount; nil for none.
type LPosOptions struct {
	// Rank returns the matches from the Rank-th on (RANK): 2 skips the first match; a
	// negative rank searches from the tail (-1 is the last match). 0 for none.
	Rank int64
	// MaxLen compares only the first MaxLen elements (MAXLEN; from the tail with a
	// negative Rank); 0 compares all.
	MaxLen int64
}

func (o *LPosOptions) appendArgs(args []any) []any {
	if o == nil {
		return args
	}
	if o.Rank != 0 {
		args = append(args, "RANK", o.Rank)
	}
	if o.MaxLen != 0 {
		args = append(args, "MAXLEN", o.MaxLen)
	}
	return args
}

// MigrateOptions are the options of Migrate; nil for none.
type MigrateOptions struct {
	// Copy leaves the key on the source server too (COPY).
	Copy bool
	// Replace replaces the key on the destination when it exists (REPLACE).
	Replace bool
	// Username and Password authenticate on the destination server (AUTH2, or AUTH
	// without a Username); an empty Password sends neither.
	Username string
	Password Secret
}

func (o *MigrateOptions) appendArgs(args []any) []any {
	if o == nil {
		return args
	}
	args = appendFlag(args, o.Copy, "COPY")
	args = appendFlag(args, o.Replace, "REPLACE")
	switch {
	case o.Password.IsZero():
	case o.Username != "":
		args = append(args, "AUTH2", o.Username, o.Password.Reveal())
	default:
		args = append(args, "AUTH", o.Password.Reveal())
	}
	return args
}
