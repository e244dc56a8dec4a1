package typedgen

// The parameter types and reply kinds of the string, key, list, hash, set and bitmap
// commands added for issue 18 (SETEX, EXPIRETIME, LMPOP, HRANDFIELD, LCS, BITFIELD…).
// They are kept apart from types.go so that the families added in parallel merge
// cleanly; they join argTypes and retKinds before anything reads them.

func init() {
	for name, t := range map[string]argType{
		// unixms is an absolute time sent in Unix milliseconds (PEXPIREAT, RESTORE ABSTTL).
		"unixms": {goType: "time.Time", min: 1, fixed: true, inline: "%[1]s.UnixMilli()", synopsis: "%[1]s", sample: []string{"1700000000000"}, time: true},
	} {
		argTypes[name] = t
	}
	for name, k := range map[string]retKind{
		"ints":        {results: "([]int64, error)", expr: "%[1]s.Int64s()"},
		"intptrs":     {results: "([]*int64, error)", expr: "decodeIntPtrs(%[1]s)"},
		"unixtime-s":  {results: "(time.Time, error)", expr: "decodeExpireTime(%[1]s, time.Second)", time: true},
		"unixtime-ms": {results: "(time.Time, error)", expr: "decodeExpireTime(%[1]s, time.Millisecond)", time: true},
		"seconds":     {results: "(time.Duration, error)", expr: "decodeSeconds(%[1]s)", time: true},
		"keystrings":  {results: "(key string, values []string, err error)", expr: "decodeKeyStrings(%[1]s)"},
		"pairs":       {results: "([]FieldValue, error)", expr: "decodeFieldValues(%[1]s)"},
		"lcsidx":      {results: "(LCSMatch, error)", expr: "decodeLCSIdx(%[1]s)"},
	} {
		retKinds[name] = k
	}
}
