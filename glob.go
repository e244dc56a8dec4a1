package redline

import "github.com/redline-go/redline/hashslot"

// globMatch reports whether key matches the glob pattern exactly as Redis's SCAN ...
// MATCH and KEYS decide it (stringmatchlen in util.c, case-sensitive): a star matches
// any run of bytes (also none), ? any one byte, [abc] one byte of the set, [^abc] one
// byte not in it, [a-z] a byte in the range (its ends in either order), and a
// backslash makes the next byte literal, in a set too.
//
// The server's quirks are kept (a lone * matches the empty key, ** does not), because Scan promises the keys SCAN would return: an
// unclosed [ ends the pattern (as if closed there), a - right before ] is a range ending
// at ], bytes compare as signed chars in ranges (as on x86 and most servers), and
// patterns nested deeper than 1000 stars match nothing.
func globMatch[K string | []byte](pattern string, key K) bool {
	if pattern == "*" { // SCAN and KEYS take it as "all keys", the empty one too
		return true
	}
	skip := false
	return globMatchAt(pattern, key, &skip, 0)
}

// at returns s[i], or 0 past the end: the server reads the NUL that ends its strings.
func at(s string, i int) byte {
	if i < len(s) {
		return s[i]
	}
	return 0
}

func globMatchAt[K string | []byte](p string, s K, skipLonger *bool, nesting int) bool {
	if nesting > 1000 { // the server's guard against abusive patterns
		return false
	}
	for len(p) > 0 && len(s) > 0 {
		switch p[0] {
		case '*':
			for len(p) > 1 && p[1] == '*' {
				p = p[1:]
			}
			if len(p) == 1 {
				return true
			}
			for len(s) > 0 {
				if globMatchAt(p[1:], s, skipLonger, nesting+1) {
					return true
				}
				if *skipLonger {
					return false
				}
				s = s[1:]
			}
			// The rest of the pattern matches nowhere in the rest of the key: a longer
			// match for an earlier star cannot help either.
			*skipLonger = true
			return false
		case '?':
			s = s[1:]
		case '[':
			var ok bool
			p, ok = globSet(p[1:], s[0])
			if !ok {
				return false
			}
			s = s[1:]
		case '\\':
			if len(p) >= 2 {
				p = p[1:]
			}
			fallthrough
		default:
			if p[0] != s[0] {
				return false
			}
			s = s[1:]
		}
		p = p[1:]
		if len(s) == 0 {
			for len(p) > 0 && p[0] == '*' {
				p = p[1:]
			}
			break
		}
	}
	return len(p) == 0 && len(s) == 0
}

// globSet matches c against the set that p starts with (after the '['). It returns p
// at the set's closing ']' (or at its last byte when the set is not closed, so that the
// caller's step past it ends the pattern) and whether c is in the set (or, with ^, not).
func globSet(p string, c byte) (string, bool) {
	not := at(p, 0) == '^'
	if not {
		p = p[1:]
	}
	match := false
	for {
		switch {
		case at(p, 0) == '\\' && len(p) >= 2:
			p = p[1:]
			if p[0] == c {
				match = true
			}
		case at(p, 0) == ']' && len(p) > 0:
			return p, match != not
		case len(p) == 0:
			// Unclosed: the server steps back onto the last byte, which the caller steps
			// past. A ']' byte 0 past the end never counts as closing.
			return " ", match != not
		case len(p) >= 3 && p[1] == '-':
			lo, hi, x := int(int8(p[0])), int(int8(p[2])), int(int8(c))
			if lo > hi {
				lo, hi = hi, lo
			}
			p = p[2:]
			if x >= lo && x <= hi {
				match = true
			}
		default:
			if p[0] == c {
				match = true
			}
		}
		p = p[1:]
	}
}

// patternSlot returns the one slot every key matching pattern hashes to, when the
// pattern fixes it: its literal beginning (up to the first unescaped *, ? or [) holds a
// non-empty hash tag, as in "{user:1}:*". Scan then reads that slot only.
func patternSlot(pattern string) (int, bool) {
	var lit []byte
	for i := 0; i < len(pattern); i++ {
		c := pattern[i]
		switch c {
		case '*', '?', '[':
			return tagSlot(lit)
		case '\\':
			if i+1 < len(pattern) {
				i++
				c = pattern[i]
			}
		}
		lit = append(lit, c)
	}
	return tagSlot(lit)
}

// tagSlot returns the slot of any key starting with prefix, if prefix holds a complete,
// non-empty hash tag.
func tagSlot(prefix []byte) (int, bool) {
	open := -1
	for i, c := range prefix {
		if c == '{' && open < 0 {
			open = i
		} else if c == '}' && open >= 0 {
			if i == open+1 {
				return 0, false // {} : the whole key is hashed
			}
			return hashslot.KeyBytes(prefix[:i+1]), true
		}
	}
	return 0, false
}
