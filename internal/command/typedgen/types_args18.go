package typedgen

// The reply kinds added by the argument and per-node part of issue 18 (positional MGET),
// kept apart from types.go so that the families added in parallel merge cleanly; they
// join retKinds before anything reads them.

func init() {
	// strptrs: an array of strings, nil for a null element (MGET, positional).
	retKinds["strptrs"] = retKind{results: "([]*string, error)", expr: "decodeStrPtrs(%[1]s)"}
}
