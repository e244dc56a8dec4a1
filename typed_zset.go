package redline

import "github.com/redline-go/redline/resp"

// This file holds the types, options and reply decoders of the sorted-set methods of
// issue 18 (ZUnion, ZInter, ZMPop, ZMScore…; commands_gen.go).

// ZOrder says which end of a sorted set ZMPop and BZMPop pop from.
type ZOrder string

// The ends of a sorted set.
const (
	ZMin ZOrder = "MIN" // the lowest scores first
	ZMax ZOrder = "MAX" // the highest scores first
)

// ZAggregateOptions are the options of ZUnion, ZInter and their WithScores and Store
// forms; nil sums the members' scores, unweighted.
type ZAggregateOptions struct {
	// Weights multiply each input set's scores, one per key in order (WEIGHTS); nil
	// means 1 for every set. When not nil it must have one weight per key.
	Weights []float64
	// Aggregate combines a member's weighted scores: "SUM" ("" too), "MIN" or "MAX"
	// (AGGREGATE).
	Aggregate string
}

func (o *ZAggregateOptions) appendArgs(args []any) []any {
	if o == nil {
		return args
	}
	if len(o.Weights) > 0 {
		args = append(args, "WEIGHTS")
		for _, w := range o.Weights {
			args = append(args, w)
		}
	}
	if o.Aggregate != "" {
		args = append(args, "AGGREGATE", o.Aggregate)
	}
	return args
}

// decodeFloatPtrs returns ZMSCORE's scores: doubles (RESP3) or bulk strings (RESP2),
// nil for a null.
func decodeFloatPtrs(r Result) ([]*float64, error) {
	v, err := r.typed()
	if err != nil {
		return nil, err
	}
	if !isList(v) {
		return nil, typeErr(v, "an array")
	}
	out := make([]*float64, len(v.Elems))
	vals := make([]float64, len(v.Elems))
	for i, e := range v.Elems {
		if e.IsNull() {
			continue
		}
		if vals[i], err = (Result{val: e}).Float64(); err != nil {
			return nil, err
		}
		out[i] = &vals[i]
	}
	return out, nil
}

// decodeKeyZs returns the [key, [[member, score], …]] reply of ZMPOP and BZMPOP; Nil
// when there was nothing to pop (or BZMPOP timed out).
func decodeKeyZs(r Result) (string, []Z, error) {
	v, err := r.typed()
	if err != nil {
		return "", nil, err
	}
	if !isList(v) || len(v.Elems) != 2 {
		return "", nil, typeErr(v, "a [key, members] pair")
	}
	key, err := valueText(v.Elems[0])
	if err != nil {
		return "", nil, err
	}
	zs, err := decodeZs(Result{val: v.Elems[1]})
	if err != nil {
		return "", nil, err
	}
	return key, zs, nil
}

// mapPairs returns a map reply (RESP3) or a flat name-value array (RESP2) as its
// name, value, name, value… elements.
func mapPairs(v resp.Value, what string) ([]resp.Value, error) {
	if v.Type != resp.TypeMap && !isList(v) || len(v.Elems)%2 != 0 {
		return nil, typeErr(v, what)
	}
	return v.Elems, nil
}
