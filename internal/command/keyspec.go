package command

import (
	"strconv"
	"strings"
)

// KeySpec describes where some of a command's keys are, as one entry of the key_specs field
// of COMMAND (Redis 7): a begin search finds the first key's position (or the position
// from which the keys are counted), then find keys says how many keys follow and how far
// apart they are.
type KeySpec struct {
	// Flags say how the command uses these keys, and whether they are keys at all.
	Flags KeyFlags
	// Begin finds where the keys start.
	Begin BeginSearch
	// Find finds the keys from there.
	Find FindKeys
}

// BeginKind is the type of a key spec's begin search.
type BeginKind uint8

// The begin search types.
const (
	// BeginUnknown: the keys cannot be found from the spec alone (type "unknown", or a
	// type this package does not know).
	BeginUnknown BeginKind = iota
	// BeginIndex: the search begins at the fixed argument position Index (type "index").
	BeginIndex
	// BeginKeyword: the search begins right after the argument Keyword, searched
	// case-insensitively from StartFrom (type "keyword").
	BeginKeyword
)

// BeginSearch is the begin_search of a key spec.
type BeginSearch struct {
	// Kind is the search type; it says which of the other fields are used.
	Kind BeginKind
	// Index is the position of the first key for BeginIndex (args[0] is the command name).
	Index int
	// Keyword is the argument that precedes the keys for BeginKeyword, such as "STREAMS".
	Keyword string
	// StartFrom is where the search for Keyword starts: a positive position searches
	// forward from there; a negative one counts from the end and searches backward.
	StartFrom int
}

// FindKind is the type of a key spec's find keys.
type FindKind uint8

// The find keys types.
const (
	// FindUnknown: the keys cannot be found from the spec alone.
	FindUnknown FindKind = iota
	// FindRange: the keys are a range from the begin position (type "range").
	FindRange
	// FindKeyNum: an argument gives the number of keys (type "keynum"), as in EVAL.
	FindKeyNum
)

// FindKeys is the find_keys of a key spec.
type FindKeys struct {
	// Kind is the find type; it says which of the other fields are used.
	Kind FindKind
	// LastKey (FindRange) is the position of the last key relative to the begin position;
	// negative counts from the end of the arguments: -1 is the last argument. With a
	// non-zero Limit and LastKey -1, the keys are the first 1/Limit of the remaining
	// arguments (XREAD's STREAMS k1 k2 id1 id2 has Limit 2).
	LastKey int
	// KeyStep (FindRange and FindKeyNum) is the distance between two keys: 2 for MSET's
	// key value pairs.
	KeyStep int
	// Limit (FindRange) divides the remaining arguments, see LastKey. Zero means no limit.
	Limit int
	// KeyNumIdx (FindKeyNum) is the position of the number of keys relative to the begin
	// position.
	KeyNumIdx int
	// FirstKey (FindKeyNum) is the position of the first key relative to the begin
	// position.
	FirstKey int
}

// KeyFlags is a set of key spec flags.
type KeyFlags uint16

// The key spec flags, named after the ones Redis reports; unknown names are ignored.
const (
	KeyRO            KeyFlags = 1 << iota // RO: read-only access
	KeyRW                                 // RW: read-write access
	KeyOW                                 // OW: overwrite, the old value is not read
	KeyRM                                 // RM: the key may be deleted
	KeyAccess                             // access: the value is returned or used
	KeyUpdate                             // update: the value is updated
	KeyInsert                             // insert: data is only added
	KeyDelete                             // delete: data is deleted
	KeyNotKey                             // not_key: not a key, such as a shard channel
	KeyIncomplete                         // incomplete: the spec may miss keys
	KeyVariableFlags                      // variable_flags: the flags depend on the arguments
)

var keyFlagNames = [...]string{
	"RO", "RW", "OW", "RM", "access", "update", "insert", "delete", "not_key", "incomplete",
	"variable_flags",
}

var keyFlagGoNames = [...]string{
	"KeyRO", "KeyRW", "KeyOW", "KeyRM", "KeyAccess", "KeyUpdate", "KeyInsert", "KeyDelete",
	"KeyNotKey", "KeyIncomplete", "KeyVariableFlags",
}

// parseKeyFlag returns the key spec flag Redis names name (case-insensitive), or 0.
func parseKeyFlag(name string) KeyFlags {
	for i, n := range keyFlagNames {
		if strings.EqualFold(n, name) {
			return 1 << i
		}
	}
	return 0
}

// String returns the Redis names of the flags in f, separated by "|", such as "RO|access".
func (f KeyFlags) String() string { return bitString(uint64(f), keyFlagNames[:]) }

// GoString returns f as a Go expression, such as "KeyRO | KeyAccess".
func (f KeyFlags) GoString() string { return bitGoString(uint64(f), keyFlagGoNames[:], "KeyFlags") }

// String returns the spec in a compact form, such as "index(1) range(0,1,0) RO|access".
func (s KeySpec) String() string {
	var b []byte
	switch s.Begin.Kind {
	case BeginIndex:
		b = append(b, "index("...)
		b = strconv.AppendInt(b, int64(s.Begin.Index), 10)
	case BeginKeyword:
		b = append(b, "keyword("...)
		b = strconv.AppendQuote(b, s.Begin.Keyword)
		b = append(b, ',')
		b = strconv.AppendInt(b, int64(s.Begin.StartFrom), 10)
	default:
		b = append(b, "unknown("...)
	}
	b = append(b, ") "...)
	switch s.Find.Kind {
	case FindRange:
		b = append(b, "range("...)
		b = appendInts(b, s.Find.LastKey, s.Find.KeyStep, s.Find.Limit)
	case FindKeyNum:
		b = append(b, "keynum("...)
		b = appendInts(b, s.Find.KeyNumIdx, s.Find.FirstKey, s.Find.KeyStep)
	default:
		b = append(b, "unknown("...)
	}
	b = append(b, ") "...)
	b = append(b, s.Flags.String()...)
	return string(b)
}

func appendInts(b []byte, v ...int) []byte {
	for i, n := range v {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendInt(b, int64(n), 10)
	}
	return b
}
