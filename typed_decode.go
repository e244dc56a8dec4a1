package redline

import (
	"strconv"
	"strings"
	"time"

	"github.com/redline-go/redline/resp"
)

// This file holds the reply decoders of the typed command methods (commands_gen.go) that
// Result's own accessors do not cover. Each takes the Result of Do and accepts the reply
// in RESP3 and in RESP2 form.

// decodeOK returns the error of a status reply, and Nil for a null (SET NX or XX whose
// condition failed).
func decodeOK(r Result) error {
	_, err := r.typed()
	return err
}

// decodeBools returns an array of integers as booleans (SMISMEMBER, SCRIPT EXISTS).
func decodeBools(r Result) ([]bool, error) {
	ns, err := r.Int64s()
	if err != nil {
		return nil, err
	}
	out := make([]bool, len(ns))
	for i, n := range ns {
		out[i] = n != 0
	}
	return out, nil
}

// decodeKeyed returns the reply of MGET or HMGET, one element per name, as a map of the
// names whose element is not null.
func decodeKeyed(r Result, names []string) (map[string]string, error) {
	v, err := r.typed()
	if err != nil {
		return nil, err
	}
	if !isList(v) || len(v.Elems) != len(names) {
		return nil, typeErr(v, "an array of "+strconv.Itoa(len(names))+" elements")
	}
	out := make(map[string]string, len(names))
	for i, e := range v.Elems {
		if e.IsNull() {
			continue
		}
		s, err := valueText(e)
		if err != nil {
			return nil, err
		}
		out[names[i]] = s
	}
	return out, nil
}

// decodeTTL returns the reply of TTL or PTTL in unit: Nil for a missing key (-2),
// NoExpiry for a key without expiry (-1).
func decodeTTL(r Result, unit time.Duration) (time.Duration, error) {
	n, err := r.Int64()
	switch {
	case err != nil:
		return 0, err
	case n == -2:
		return 0, Nil
	case n == -1:
		return NoExpiry, nil
	}
	return time.Duration(n) * unit, nil
}

// decodeZs returns members with scores: a flat member, score, member, score… array
// (RESP2) or an array of [member, score] pairs (RESP3).
func decodeZs(r Result) ([]Z, error) {
	v, err := r.typed()
	if err != nil {
		return nil, err
	}
	if !isList(v) {
		return nil, typeErr(v, "an array")
	}
	if len(v.Elems) > 0 && isList(v.Elems[0]) { // RESP3: pairs
		out := make([]Z, len(v.Elems))
		for i, p := range v.Elems {
			if !isList(p) || len(p.Elems) != 2 {
				return nil, typeErr(p, "a [member, score] pair")
			}
			if out[i], err = zOf(p.Elems[0], p.Elems[1]); err != nil {
				return nil, err
			}
		}
		return out, nil
	}
	if len(v.Elems)%2 != 0 {
		return nil, typeErr(v, "member-score pairs")
	}
	out := make([]Z, len(v.Elems)/2)
	for i := range out {
		if out[i], err = zOf(v.Elems[2*i], v.Elems[2*i+1]); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func zOf(member, score resp.Value) (Z, error) {
	m, err := valueText(member)
	if err != nil {
		return Z{}, err
	}
	s, err := (Result{val: score}).Float64()
	return Z{Score: s, Member: m}, err
}

// decodeKeyValue returns the [key, value] reply of BLPOP and BRPOP; Nil when it timed
// out.
func decodeKeyValue(r Result) (key, value string, err error) {
	ss, err := r.Strings()
	if err != nil {
		return "", "", err
	}
	if len(ss) != 2 {
		return "", "", typeErr(r.val, "a [key, value] pair")
	}
	return ss[0], ss[1], nil
}

// decodeKeyZ returns the [key, member, score] reply of BZPOPMIN and BZPOPMAX; Nil when
// it timed out.
func decodeKeyZ(r Result) (string, Z, error) {
	v, err := r.typed()
	if err != nil {
		return "", Z{}, err
	}
	if !isList(v) || len(v.Elems) != 3 {
		return "", Z{}, typeErr(v, "a [key, member, score] triple")
	}
	key, err := valueText(v.Elems[0])
	if err != nil {
		return "", Z{}, err
	}
	z, err := zOf(v.Elems[1], v.Elems[2])
	return key, z, err
}

// decodeXMessages returns stream entries: an array of [id, [field, value, …]].
func decodeXMessages(r Result) ([]XMessage, error) {
	v, err := r.typed()
	if err != nil {
		return nil, err
	}
	return xMessages(v)
}

func xMessages(v resp.Value) ([]XMessage, error) {
	if !isList(v) {
		return nil, typeErr(v, "an array of stream entries")
	}
	out := make([]XMessage, len(v.Elems))
	for i, e := range v.Elems {
		if !isList(e) || len(e.Elems) != 2 {
			return nil, typeErr(e, "an [id, fields] stream entry")
		}
		id, err := valueText(e.Elems[0])
		if err != nil {
			return nil, err
		}
		out[i].ID = id
		fv := e.Elems[1]
		if fv.IsNull() { // deleted while pending
			continue
		}
		if !isList(fv) && fv.Type != resp.TypeMap || len(fv.Elems)%2 != 0 {
			return nil, typeErr(fv, "field-value pairs")
		}
		out[i].Values = make(map[string]string, len(fv.Elems)/2)
		for j := 0; j < len(fv.Elems); j += 2 {
			f, err := valueText(fv.Elems[j])
			if err != nil {
				return nil, err
			}
			val, err := valueText(fv.Elems[j+1])
			if err != nil {
				return nil, err
			}
			out[i].Values[f] = val
		}
	}
	return out, nil
}

// decodeXStreams returns the reply of XREAD and XREADGROUP: a map of stream → entries
// (RESP3) or an array of [stream, entries] pairs (RESP2); Nil when a BLOCK timed out.
func decodeXStreams(r Result) ([]XStream, error) {
	v, err := r.typed()
	if err != nil {
		return nil, err
	}
	var pairs []resp.Value // stream, entries, stream, entries…
	switch {
	case v.Type == resp.TypeMap:
		pairs = v.Elems
	case isList(v):
		pairs = make([]resp.Value, 0, 2*len(v.Elems))
		for _, e := range v.Elems {
			if !isList(e) || len(e.Elems) != 2 {
				return nil, typeErr(e, "a [stream, entries] pair")
			}
			pairs = append(pairs, e.Elems...)
		}
	default:
		return nil, typeErr(v, "streams")
	}
	if len(pairs)%2 != 0 {
		return nil, typeErr(v, "stream-entries pairs")
	}
	out := make([]XStream, len(pairs)/2)
	for i := range out {
		if out[i].Stream, err = valueText(pairs[2*i]); err != nil {
			return nil, err
		}
		if out[i].Messages, err = xMessages(pairs[2*i+1]); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// decodeXPending returns the summary form of XPENDING: [count, lower, higher,
// [[consumer, count], …]], with nulls when nothing is pending.
func decodeXPending(r Result) (XPendingSummary, error) {
	v, err := r.typed()
	if err != nil {
		return XPendingSummary{}, err
	}
	if !isList(v) || len(v.Elems) != 4 {
		return XPendingSummary{}, typeErr(v, "a 4-element XPENDING summary")
	}
	var s XPendingSummary
	if s.Count, err = valueInt(v.Elems[0]); err != nil {
		return XPendingSummary{}, err
	}
	for i, dst := range []*string{&s.Lower, &s.Higher} {
		if e := v.Elems[1+i]; !e.IsNull() {
			if *dst, err = valueText(e); err != nil {
				return XPendingSummary{}, err
			}
		}
	}
	cs := v.Elems[3]
	if cs.IsNull() {
		return s, nil
	}
	if !isList(cs) {
		return XPendingSummary{}, typeErr(cs, "an array of consumers")
	}
	s.Consumers = make(map[string]int64, len(cs.Elems))
	for _, c := range cs.Elems {
		if !isList(c) || len(c.Elems) != 2 {
			return XPendingSummary{}, typeErr(c, "a [consumer, count] pair")
		}
		name, err := valueText(c.Elems[0])
		if err != nil {
			return XPendingSummary{}, err
		}
		n, err := valueInt(c.Elems[1])
		if err != nil {
			return XPendingSummary{}, err
		}
		s.Consumers[name] = n
	}
	return s, nil
}

// decodeGeoPos returns GEOPOS's positions, nil for a member that does not exist.
func decodeGeoPos(r Result) ([]*GeoPos, error) {
	v, err := r.typed()
	if err != nil {
		return nil, err
	}
	if !isList(v) {
		return nil, typeErr(v, "an array of positions")
	}
	out := make([]*GeoPos, len(v.Elems))
	for i, e := range v.Elems {
		if e.IsNull() {
			continue
		}
		if !isList(e) || len(e.Elems) != 2 {
			return nil, typeErr(e, "a [longitude, latitude] pair")
		}
		lon, err := (Result{val: e.Elems[0]}).Float64()
		if err != nil {
			return nil, err
		}
		lat, err := (Result{val: e.Elems[1]}).Float64()
		if err != nil {
			return nil, err
		}
		out[i] = &GeoPos{Longitude: lon, Latitude: lat}
	}
	return out, nil
}

// decodeTime returns TIME's [unix seconds, microseconds] as a time.Time.
func decodeTime(r Result) (time.Time, error) {
	ns, err := r.Int64s()
	if err != nil {
		return time.Time{}, err
	}
	if len(ns) != 2 {
		return time.Time{}, typeErr(r.val, "a [seconds, microseconds] pair")
	}
	return time.Unix(ns[0], ns[1]*1000), nil
}

// decodeInfoMap returns a text of "field:value" lines (CLUSTER INFO) as a map; blank
// lines and "# Section" headers are skipped.
func decodeInfoMap(r Result) (map[string]string, error) {
	s, err := r.Text()
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for line := range strings.Lines(s) {
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' {
			continue
		}
		if k, v, ok := strings.Cut(line, ":"); ok {
			out[k] = v
		}
	}
	return out, nil
}
