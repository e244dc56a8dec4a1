package typedgen

// The parameter types and reply kinds of the sorted-set, stream, geo, function and
// pub/sub methods of issue 18, registered in a file of their own so that they merge
// cleanly with the other families' additions to types.go.

func init() {
	// zorder is ZMPOP's and BZMPOP's MIN or MAX.
	argTypes["zorder"] = argType{goType: "ZOrder", min: 1, fixed: true, inline: "string(%[1]s)", synopsis: "%[1]s", sample: []string{"MIN"}}

	// numkeys+ is numkeys sending at least one key (ZUNION, ZMPOP…: arity counts one).
	nk := argTypes["numkeys"]
	nk.min = 2
	argTypes["numkeys+"] = nk

	for kind, k := range map[string]retKind{
		"floatptrs":      {results: "([]*float64, error)", expr: "decodeFloatPtrs(%[1]s)"},
		"keyzs":          {results: "(key string, zs []Z, err error)", expr: "decodeKeyZs(%[1]s)"},
		"counts":         {results: "(map[string]int64, error)", expr: "decodeCounts(%[1]s)"},
		"xautoclaim":     {results: "(XAutoClaimResult, error)", expr: "decodeXAutoClaim(%[1]s)"},
		"xautoclaimids":  {results: "(XAutoClaimIDsResult, error)", expr: "decodeXAutoClaimIDs(%[1]s)"},
		"xpendingext":    {results: "([]XPendingEntry, error)", expr: "decodeXPendingExt(%[1]s)"},
		"xinfostream":    {results: "(XInfoStream, error)", expr: "decodeXInfoStream(%[1]s)"},
		"xinfofull":      {results: "(XInfoStreamFull, error)", expr: "decodeXInfoStreamFull(%[1]s)"},
		"xinfogroups":    {results: "([]XInfoGroup, error)", expr: "decodeXInfoGroups(%[1]s)"},
		"xinfoconsumers": {results: "([]XInfoConsumer, error)", expr: "decodeXInfoConsumers(%[1]s)"},
		"functionlist":   {results: "([]FunctionLibrary, error)", expr: "decodeFunctionList(%[1]s)"},
		"functionstats":  {results: "(FunctionStats, error)", expr: "decodeFunctionStats(%[1]s)"},
	} {
		retKinds[kind] = k
	}
}
