package redline

// decodeStrPtrs returns an array reply as one *string per element, in order: nil for a
// null element (a key MGET did not find). The strings share one allocation of headers.
func decodeStrPtrs(r Result) ([]*string, error) {
	v, err := r.typed()
	if err != nil {
		return nil, err
	}
	if !isList(v) {
		return nil, typeErr(v, "an array")
	}
	out := make([]*string, len(v.Elems))
	ss := make([]string, len(v.Elems))
	for i, e := range v.Elems {
		if e.IsNull() {
			continue
		}
		if ss[i], err = valueText(e); err != nil {
			return nil, err
		}
		out[i] = &ss[i]
	}
	return out, nil
}
