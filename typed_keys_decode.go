package redline

import (
	"time"

	"github.com/redline-go/redline/resp"
)

// This file holds the reply decoders of the typed methods of typed_keys.go's families
// (EXPIRETIME, OBJECT IDLETIME, LMPOP, HRANDFIELD WITHVALUES, LCS IDX, BITFIELD). Each
// accepts the reply in RESP3 and in RESP2 form.

// decodeExpireTime returns the reply of EXPIRETIME (unit time.Second) or PEXPIRETIME
// (time.Millisecond) as a time: Nil for a missing key (-2), the zero Time for a key
// without expiry (-1).
func decodeExpireTime(r Result, unit time.Duration) (time.Time, error) {
	n, err := r.Int64()
	switch {
	case err != nil:
		return time.Time{}, err
	case n == -2:
		return time.Time{}, Nil
	case n == -1:
		return time.Time{}, nil
	case unit == time.Millisecond:
		return time.UnixMilli(n), nil
	}
	return time.Unix(n, 0), nil
}

// decodeSeconds returns an integer reply counted in seconds (OBJECT IDLETIME).
func decodeSeconds(r Result) (time.Duration, error) {
	n, err := r.Int64()
	if err != nil {
		return 0, err
	}
	return time.Duration(n) * time.Second, nil
}

// decodeIntPtrs returns an array of integers and nulls (BITFIELD): nil for a null.
func decodeIntPtrs(r Result) ([]*int64, error) {
	v, err := r.typed()
	if err != nil {
		return nil, err
	}
	if !isList(v) {
		return nil, typeErr(v, "an array")
	}
	out := make([]*int64, len(v.Elems))
	ns := make([]int64, len(v.Elems)) // one allocation for every element
	for i, e := range v.Elems {
		if e.IsNull() {
			continue
		}
		if ns[i], err = valueInt(e); err != nil {
			return nil, err
		}
		out[i] = &ns[i]
	}
	return out, nil
}

// decodeKeyStrings returns the [key, [element, …]] reply of LMPOP and BLMPOP; Nil when
// every list was empty or the wait timed out.
func decodeKeyStrings(r Result) (key string, values []string, err error) {
	v, err := r.typed()
	if err != nil {
		return "", nil, err
	}
	if !isList(v) || len(v.Elems) != 2 {
		return "", nil, typeErr(v, "a [key, elements] pair")
	}
	if key, err = valueText(v.Elems[0]); err != nil {
		return "", nil, err
	}
	values, err = (Result{val: v.Elems[1], elem: true}).Strings()
	if err != nil {
		return "", nil, err
	}
	return key, values, nil
}

// decodeFieldValues returns field-value pairs: a flat field, value, field, value…
// array (RESP2) or an array of [field, value] pairs (RESP3). Fields may repeat
// (HRANDFIELD with a negative count), which is why it is no map.
func decodeFieldValues(r Result) ([]FieldValue, error) {
	v, err := r.typed()
	if err != nil {
		return nil, err
	}
	if !isList(v) {
		return nil, typeErr(v, "an array")
	}
	flat := v.Elems
	if len(v.Elems) > 0 && isList(v.Elems[0]) { // RESP3: pairs
		flat = make([]resp.Value, 0, 2*len(v.Elems))
		for _, p := range v.Elems {
			if !isList(p) || len(p.Elems) != 2 {
				return nil, typeErr(p, "a [field, value] pair")
			}
			flat = append(flat, p.Elems...)
		}
	}
	if len(flat)%2 != 0 {
		return nil, typeErr(v, "field-value pairs")
	}
	out := make([]FieldValue, len(flat)/2)
	for i := range out {
		if out[i].Field, err = valueText(flat[2*i]); err != nil {
			return nil, err
		}
		if out[i].Value, err = valueText(flat[2*i+1]); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// decodeLCSIdx returns the reply of LCS IDX: a map (RESP3) or a flat array (RESP2) of
// "matches" → [[[start1, end1], [start2, end2], (len)], …] and "len" → n.
func decodeLCSIdx(r Result) (LCSMatch, error) {
	v, err := r.typed()
	if err != nil {
		return LCSMatch{}, err
	}
	if v.Type != resp.TypeMap && !isList(v) || len(v.Elems)%2 != 0 {
		return LCSMatch{}, typeErr(v, "an LCS IDX map")
	}
	var m LCSMatch
	for i := 0; i < len(v.Elems); i += 2 {
		name, err := valueText(v.Elems[i])
		if err != nil {
			return LCSMatch{}, err
		}
		val := v.Elems[i+1]
		switch name {
		case "len":
			if m.Len, err = valueInt(val); err != nil {
				return LCSMatch{}, err
			}
		case "matches":
			if m.Matches, err = lcsMatches(val); err != nil {
				return LCSMatch{}, err
			}
		}
	}
	return m, nil
}

func lcsMatches(v resp.Value) ([]LCSMatchedPosition, error) {
	if !isList(v) {
		return nil, typeErr(v, "an array of matches")
	}
	out := make([]LCSMatchedPosition, len(v.Elems))
	for i, e := range v.Elems {
		if !isList(e) || len(e.Elems) != 2 && len(e.Elems) != 3 {
			return nil, typeErr(e, "a [range1, range2, (len)] match")
		}
		var err error
		if out[i].Key1, err = lcsPosition(e.Elems[0]); err != nil {
			return nil, err
		}
		if out[i].Key2, err = lcsPosition(e.Elems[1]); err != nil {
			return nil, err
		}
		if len(e.Elems) == 3 {
			if out[i].MatchLen, err = valueInt(e.Elems[2]); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

func lcsPosition(v resp.Value) (LCSPosition, error) {
	if !isList(v) || len(v.Elems) != 2 {
		return LCSPosition{}, typeErr(v, "a [start, end] range")
	}
	start, err := valueInt(v.Elems[0])
	if err != nil {
		return LCSPosition{}, err
	}
	end, err := valueInt(v.Elems[1])
	return LCSPosition{Start: start, End: end}, err
}
