package command

// keyFinder selects a hand-written key finder: it finds the keys of one command by its
// own rules, as a getkeys function of Redis does. An enum and a switch rather than a
// func value, so the compiler can see that args and dst do not escape (no allocation on
// the routing path).
type keyFinder uint8

const (
	noFinder keyFinder = iota
	finderMigrate
	finderSort
	finderSortRO
)

// find runs the finder; ok is false when args are malformed.
func (f keyFinder) find(args []any, dst []int) (idx []int, ok bool) {
	switch f {
	case finderMigrate:
		return migrateKeys(args, dst)
	case finderSort:
		return sortKeys(args, dst)
	case finderSortRO:
		return sortROKeys(args, dst)
	}
	return dst, false
}

// nativeFinders are the commands whose key specs Redis does not use to find keys, because
// the specs are "unknown" or "incomplete": Redis runs a getkeys function of its own for
// them, which these mirror.
var nativeFinders = map[string]keyFinder{
	"migrate": finderMigrate,
	"sort":    finderSort,
	"sort_ro": finderSortRO,
}

// attachKeyFinders gives in, and its subcommands, the hand-written key finder its name
// calls for, if any.
func attachKeyFinders(in *Info) {
	in.keys = nativeFinders[in.Name]
	for _, s := range in.Subcommands {
		attachKeyFinders(s)
	}
}

// migrateKeys mirrors migrateGetKeys: MIGRATE host port key db timeout [COPY] [REPLACE]
// [AUTH password | AUTH2 username password] [KEYS key...]. With KEYS, the key argument
// must be empty and the keys are the arguments after KEYS; the search for KEYS skips the
// arguments of AUTH and AUTH2, so a password "KEYS" is not mistaken for the keyword.
func migrateKeys(args []any, dst []int) ([]int, bool) {
	if len(args) < 6 {
		return dst, false
	}
	for i := 6; i < len(args); i++ {
		switch {
		case argEqualFold(args[i], "keys"):
			if !argEmpty(args[3]) || i+1 >= len(args) {
				return dst, false
			}
			for k := i + 1; k < len(args); k++ {
				dst = append(dst, k)
			}
			return dst, true
		case argEqualFold(args[i], "auth"):
			i++
		case argEqualFold(args[i], "auth2"):
			i += 2
		}
	}
	return append(dst, 3), true
}

// sortKeys mirrors sortGetKeys: SORT key [BY pattern] [LIMIT offset count] [GET pattern
// ...] [ASC|DESC] [ALPHA] [STORE destination]. The last STORE counts, and the arguments of
// BY, LIMIT and GET are skipped, so a pattern "STORE" is not mistaken for the keyword. The
// keys that BY and GET patterns read are not known before the sort runs.
func sortKeys(args []any, dst []int) ([]int, bool) {
	if len(args) < 2 {
		return dst, false
	}
	store := 0
	for i := 2; i < len(args); i++ {
		switch {
		case argEqualFold(args[i], "limit"):
			i += 2
		case argEqualFold(args[i], "get"), argEqualFold(args[i], "by"):
			i++
		case argEqualFold(args[i], "store") && i+1 < len(args):
			store = i + 1
			i++
		}
	}
	dst = append(dst, 1)
	if store != 0 {
		dst = append(dst, store)
	}
	return dst, true
}

// sortROKeys mirrors sortROGetKeys: the key of SORT_RO is its first argument.
func sortROKeys(args []any, dst []int) ([]int, bool) {
	if len(args) < 2 {
		return dst, false
	}
	return append(dst, 1), true
}
