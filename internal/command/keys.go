package command

// KeyIndexes appends to dst the positions in args of the command's keys (args[0] is the
// command name, and for a subcommand args[1] is its name) and returns the extended slice.
// It follows the key specs the way Redis does, in their order: a begin search by index or
// by keyword, then a range (negative last key and limit included) or a number of keys read
// from an argument (EVAL, FCALL, ZUNIONSTORE, LMPOP, SINTERCARD...). A spec whose keyword
// is absent (GEORADIUS without STORE) finds no keys. Specs flagged [KeyNotKey], such as
// SPUBLISH's shard channel, are skipped (see [Info.SlotIndexes]). A command without key
// specs uses FirstKey, LastKey and Step. MIGRATE, SORT and SORT_RO, whose specs are
// incomplete or of unknown type, follow Redis's own key finders instead (as Redis does),
// so that MIGRATE's empty key before KEYS is not a key and SORT's STORE is found anywhere.
//
// ok is false when args are malformed for the command: a wrong number of arguments (an
// Arity of 0 is not checked), a number of keys that is not a non-negative integer or
// exceeds the arguments, a key position past the end, or a key spec of unknown type. The
// keys found are still returned. A numkeys argument may be a string, []byte or any integer
// type; other arguments are compared as string or []byte only. KeyIndexes never panics,
// every index it returns is within args, and it does not allocate when dst has room for
// the keys.
func (i *Info) KeyIndexes(args []any, dst []int) (idx []int, ok bool) {
	return i.keyIndexes(args, dst, false)
}

// SlotIndexes is KeyIndexes plus the arguments of not_key specs: the positions whose hash
// slots decide where Redis Cluster runs the command. In Redis 7.0 those are the shard
// channels of SPUBLISH, SSUBSCRIBE and SUNSUBSCRIBE, which Redis reports as not_key yet
// routes by slot (it answers MOVED for them).
func (i *Info) SlotIndexes(args []any, dst []int) (idx []int, ok bool) {
	return i.keyIndexes(args, dst, true)
}

func (i *Info) keyIndexes(args []any, dst []int, notKeys bool) ([]int, bool) {
	if i == nil || len(args) == 0 {
		return dst, false
	}
	ok := i.Arity == 0 || i.Arity > 0 && len(args) == i.Arity || i.Arity < 0 && len(args) >= -i.Arity
	var found bool
	if i.keys != noFinder {
		dst, found = i.keys.find(args, dst)
		return dst, ok && found
	}
	if len(i.KeySpecs) == 0 {
		dst, found = legacyKeys(i.FirstKey, i.LastKey, i.Step, args, dst)
		return dst, ok && found
	}
	for k := range i.KeySpecs {
		s := &i.KeySpecs[k]
		if s.Flags&KeyNotKey != 0 && !notKeys {
			continue
		}
		dst, found = s.appendKeys(args, dst)
		ok = ok && found
	}
	return dst, ok
}

// appendKeys appends the keys that s finds in args, like Redis's getKeysUsingKeySpecs.
func (s *KeySpec) appendKeys(args []any, dst []int) ([]int, bool) {
	argc := len(args)
	var first int
	switch s.Begin.Kind {
	case BeginIndex:
		first = s.Begin.Index
	case BeginKeyword:
		first = findKeyword(args, s.Begin.Keyword, s.Begin.StartFrom)
		if first == 0 {
			return dst, true // keyword absent: no keys from this spec
		}
	default:
		return dst, false
	}
	if first < 1 || first > argc || first == argc && s.Find.LastKey >= 0 {
		return dst, false
	}
	var last, step int
	switch s.Find.Kind {
	case FindRange:
		step = s.Find.KeyStep
		switch {
		case s.Find.LastKey >= 0:
			last = first + s.Find.LastKey
		case first == argc:
			return dst, true // nothing after the begin position: PFMERGE dest, SUNSUBSCRIBE
		case s.Find.Limit <= 0:
			last = argc + s.Find.LastKey
			if step > 1 && (last-first+1)%step != 0 {
				return dst, false // the last group (MSET's key value) is incomplete
			}
		default:
			rest := argc - first
			if rest%s.Find.Limit != 0 {
				return dst, false // XREAD's keys and IDs do not pair up
			}
			last = first + rest/s.Find.Limit + s.Find.LastKey
		}
	case FindKeyNum:
		step = s.Find.KeyStep
		at := first + s.Find.KeyNumIdx
		if s.Find.KeyNumIdx < 0 || at >= argc {
			return dst, false
		}
		n, ok := argInt(args[at])
		if !ok || n < 0 || n > int64(argc) {
			return dst, false
		}
		if n == 0 {
			return dst, true // EVAL script 0
		}
		first += s.Find.FirstKey
		last = first + int(n) - 1
		if first <= at {
			return dst, false
		}
	default:
		return dst, false
	}
	if step < 1 || first < 1 || last < first || last >= argc {
		return dst, false
	}
	for k := first; k <= last; k += step {
		dst = append(dst, k)
	}
	return dst, true
}

// findKeyword returns the position after the first argument equal to kw (ignoring case),
// searched forward from startFrom when it is positive, backward from len(args)+startFrom
// when it is negative, never at position 0; it returns 0 when kw is absent. Like Redis, a
// forward search does not look at the last argument (no key could follow it).
func findKeyword(args []any, kw string, startFrom int) int {
	argc := len(args)
	if startFrom > 0 {
		for k := startFrom; k < argc-1; k++ {
			if argEqualFold(args[k], kw) {
				return k + 1
			}
		}
		return 0
	}
	for k := argc + startFrom; k >= 1; k-- {
		if k < argc && argEqualFold(args[k], kw) {
			return k + 1
		}
	}
	return 0
}

// legacyKeys finds keys from the legacy first key, last key and step.
func legacyKeys(first, last, step int, args []any, dst []int) ([]int, bool) {
	if first == 0 {
		return dst, true
	}
	argc := len(args)
	if last < 0 {
		if first == argc {
			return dst, true // an open range with nothing in it
		}
		last += argc
	}
	if first < 1 || step < 1 || first >= argc || last >= argc || last < first {
		return dst, false
	}
	for k := first; k <= last; k += step {
		dst = append(dst, k)
	}
	return dst, true
}

// argEqualFold reports whether the string or []byte a equals s, ignoring ASCII case.
func argEqualFold(a any, s string) bool {
	switch a := a.(type) {
	case string:
		return equalFoldASCII(a, s)
	case []byte:
		return equalFoldASCII(a, s)
	}
	return false
}

func equalFoldASCII[S string | []byte](a S, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(b); i++ {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// argEmpty reports whether a is an empty string or []byte.
func argEmpty(a any) bool {
	switch a := a.(type) {
	case string:
		return a == ""
	case []byte:
		return len(a) == 0
	}
	return false
}

// argInt returns the integer value of a: an integer type, or a string or []byte holding a
// decimal integer as Redis's string2ll accepts it (optional '-', no '+', no spaces, no
// leading zeros).
func argInt(a any) (int64, bool) {
	switch a := a.(type) {
	case string:
		return parseInt(a)
	case []byte:
		return parseInt(a)
	case int:
		return int64(a), true
	case int8:
		return int64(a), true
	case int16:
		return int64(a), true
	case int32:
		return int64(a), true
	case int64:
		return a, true
	case uint:
		return uintArg(uint64(a))
	case uint8:
		return int64(a), true
	case uint16:
		return int64(a), true
	case uint32:
		return int64(a), true
	case uint64:
		return uintArg(a)
	}
	return 0, false
}

func uintArg(u uint64) (int64, bool) {
	if u > 1<<62 {
		return 0, false
	}
	return int64(u), true
}

func parseInt[S string | []byte](s S) (int64, bool) {
	if len(s) == 0 || len(s) > 20 {
		return 0, false
	}
	neg := s[0] == '-'
	i := 0
	if neg {
		i = 1
		if len(s) == 1 {
			return 0, false
		}
	}
	if s[i] == '0' && len(s) > i+1 {
		return 0, false
	}
	var n int64
	for ; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		if n > (1<<62)/10 {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	if neg {
		n = -n
	}
	return n, true
}
