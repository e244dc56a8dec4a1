package redline

import (
	"slices"
	"strconv"
	"time"
)

// This file holds the option structs of the typed command methods (commands_gen.go) and
// the argument encoders those methods call. An option struct is passed by pointer when it
// is optional (nil means no options) and by value when it carries required arguments;
// either way its zero fields add nothing to the command.
//
// Durations and times are sent in seconds when they are whole seconds, else in
// milliseconds (EX or PX, EXPIRE or PEXPIRE, EXAT or PXAT), rounded down to the
// millisecond; a positive duration under one millisecond is sent as 1ms, never as 0,
// which Redis would read as "delete" or "no timeout".

// SetOptions are the options of Set and SetGet.
type SetOptions struct {
	// TTL sets the key's expiry (EX, or PX when it is not a whole number of seconds).
	// 0 means none: the key's previous expiry is dropped, unless KeepTTL is set.
	TTL time.Duration
	// ExpireAt sets the key's expiry as a point in time (EXAT, or PXAT when it is not a
	// whole second). The zero time means none.
	ExpireAt time.Time
	// KeepTTL keeps the expiry the key already has (KEEPTTL).
	KeepTTL bool
	// NX sets the key only if it does not exist, XX only if it exists. When the condition
	// is not met nothing is set and Set returns Nil.
	NX, XX bool
}

func (o *SetOptions) appendArgs(args []any) []any {
	if o == nil {
		return args
	}
	args = appendExpiry(args, o.TTL, "EX", "PX")
	args = appendExpireAt(args, o.ExpireAt, "EXAT", "PXAT")
	args = appendFlag(args, o.KeepTTL, "KEEPTTL")
	args = appendFlag(args, o.NX, "NX")
	return appendFlag(args, o.XX, "XX")
}

// GetExOptions are the options of GetEx: at most one of them may be set. nil leaves the
// key's expiry alone.
type GetExOptions struct {
	// TTL sets the key's expiry (EX, or PX when it is not a whole number of seconds); 0
	// means no change.
	TTL time.Duration
	// ExpireAt sets the key's expiry as a point in time (EXAT or PXAT); the zero time
	// means no change.
	ExpireAt time.Time
	// Persist removes the key's expiry (PERSIST).
	Persist bool
}

func (o *GetExOptions) appendArgs(args []any) []any {
	if o == nil {
		return args
	}
	args = appendExpiry(args, o.TTL, "EX", "PX")
	args = appendExpireAt(args, o.ExpireAt, "EXAT", "PXAT")
	return appendFlag(args, o.Persist, "PERSIST")
}

// ZAddOptions are the options of ZAdd; nil adds and updates unconditionally.
type ZAddOptions struct {
	NX bool // only add new members, never update scores
	XX bool // only update members that exist, never add
	GT bool // only update a score when the new one is greater (new members are added)
	LT bool // only update a score when the new one is less (new members are added)
	CH bool // count changed members too, not only added ones, in ZAdd's result
}

func (o *ZAddOptions) appendArgs(args []any) []any {
	if o == nil {
		return args
	}
	args = appendFlag(args, o.NX, "NX")
	args = appendFlag(args, o.XX, "XX")
	args = appendFlag(args, o.GT, "GT")
	args = appendFlag(args, o.LT, "LT")
	return appendFlag(args, o.CH, "CH")
}

// ZRangeOptions are the options of ZRange and ZRangeWithScores; nil ranges by rank
// (index), lowest score first.
type ZRangeOptions struct {
	// ByScore makes start and stop scores ("-inf", "(1.5", 3…); ByLex makes them
	// lexicographic bounds ("[a", "(b", "-", "+").
	ByScore, ByLex bool
	// Rev orders from the highest score down; with ByScore or ByLex, start is then the
	// upper bound.
	Rev bool
	// Offset and Count limit a ByScore or ByLex range (LIMIT offset count), sent when
	// either is not zero. Count 0 with an Offset means every element after the offset.
	Offset, Count int64
}

func (o *ZRangeOptions) appendArgs(args []any) []any {
	if o == nil {
		return args
	}
	args = appendFlag(args, o.ByScore, "BYSCORE")
	args = appendFlag(args, o.ByLex, "BYLEX")
	args = appendFlag(args, o.Rev, "REV")
	if o.Offset != 0 || o.Count != 0 {
		count := o.Count
		if count == 0 {
			count = -1
		}
		args = append(args, "LIMIT", o.Offset, count)
	}
	return args
}

// XAddArgs are the arguments of XAdd.
type XAddArgs struct {
	// Stream is the stream's key.
	Stream string
	// NoMkStream fails (Nil) instead of creating a missing stream (NOMKSTREAM).
	NoMkStream bool
	// MaxLen trims the stream to at most MaxLen entries as it adds (MAXLEN); 0 means no
	// trimming by length.
	MaxLen int64
	// MinID trims the entries whose IDs are below MinID (MINID); "" means none.
	MinID string
	// Approx trims with "~": only whole macro nodes, cheaper, possibly leaving a few
	// more entries than asked.
	Approx bool
	// Limit bounds how many entries an approximate trim evicts (LIMIT); 0 means the
	// server's default.
	Limit int64
	// ID is the new entry's ID; "" means "*", an ID the server assigns.
	ID string
	// Values are the entry's fields, sent in sorted field order.
	Values map[string]any
	// Fields are field-value pairs sent in this order instead of Values, when not empty.
	Fields []any
}

func (a *XAddArgs) appendArgs(args []any) []any {
	args = append(args, a.Stream)
	args = appendFlag(args, a.NoMkStream, "NOMKSTREAM")
	args = appendTrim(args, a.MaxLen, a.MinID, a.Approx, a.Limit)
	if a.ID == "" {
		args = append(args, "*")
	} else {
		args = append(args, a.ID)
	}
	if len(a.Fields) > 0 {
		return append(args, a.Fields...)
	}
	return appendSortedValues(args, a.Values)
}

func appendTrim(args []any, maxLen int64, minID string, approx bool, limit int64) []any {
	switch {
	case minID != "":
		args = append(args, "MINID")
	case maxLen > 0:
		args = append(args, "MAXLEN")
	default:
		return args
	}
	args = appendFlag(args, approx, "~")
	if minID != "" {
		args = append(args, minID)
	} else {
		args = append(args, maxLen)
	}
	if limit > 0 {
		args = append(args, "LIMIT", limit)
	}
	return args
}

// XReadArgs are the arguments of XRead.
type XReadArgs struct {
	// Streams maps each stream's key to the ID after which to read: "0" for the whole
	// stream, "$" for entries added from now on (with Block). The keys must share a slot
	// (use a {hash tag}); they are sent in sorted order.
	Streams map[string]string
	// Count is the most entries returned per stream (COUNT); 0 means no limit.
	Count int64
	// Block waits up to this long for an entry when there is none yet (BLOCK, in
	// milliseconds); 0 means do not wait. The call's deadline still applies: a Block
	// longer than the time left ends with a deadline error rather than Nil.
	Block time.Duration
}

func (a *XReadArgs) appendArgs(args []any) []any {
	args = appendCount(args, a.Count)
	args = appendBlock(args, a.Block)
	return appendStreams(args, a.Streams)
}

// XReadGroupArgs are the arguments of XReadGroup after the group and the consumer.
type XReadGroupArgs struct {
	// Streams maps each stream's key to the ID to read from: ">" for messages never
	// delivered to any consumer of the group, an ID (such as "0") for this consumer's
	// pending history. The keys must share a slot; they are sent in sorted order.
	Streams map[string]string
	// Count is the most entries returned per stream (COUNT); 0 means no limit.
	Count int64
	// Block waits up to this long for new entries (BLOCK); 0 means do not wait. The
	// call's deadline still applies.
	Block time.Duration
	// NoAck acknowledges the entries as they are read (NOACK): they never become
	// pending.
	NoAck bool
}

func (a *XReadGroupArgs) appendArgs(args []any) []any {
	args = appendCount(args, a.Count)
	args = appendBlock(args, a.Block)
	args = appendFlag(args, a.NoAck, "NOACK")
	return appendStreams(args, a.Streams)
}

func appendCount(args []any, n int64) []any {
	if n > 0 {
		args = append(args, "COUNT", n)
	}
	return args
}

func appendBlock(args []any, d time.Duration) []any {
	if d > 0 {
		args = append(args, "BLOCK", msArg(d))
	}
	return args
}

// appendStreams appends STREAMS, the sorted keys, then their IDs.
func appendStreams(args []any, streams map[string]string) []any {
	keys := make([]string, 0, len(streams))
	for k := range streams {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	args = append(args, "STREAMS")
	for _, k := range keys {
		args = append(args, k)
	}
	for _, k := range keys {
		args = append(args, streams[k])
	}
	return args
}

// GeoSearchQuery is the area GeoSearch searches and how it orders and limits the members
// it finds.
type GeoSearchQuery struct {
	// Member is the center (FROMMEMBER); when "", the center is Longitude, Latitude
	// (FROMLONLAT).
	Member              string
	Longitude, Latitude float64
	// Radius searches a circle (BYRADIUS); when 0, a Width × Height box (BYBOX).
	Radius        float64
	Width, Height float64
	// Unit is the unit of Radius, Width and Height: "m", "km", "ft" or "mi"; "" means
	// "m".
	Unit string
	// Sort is "ASC" (nearest first) or "DESC"; "" leaves the members unsorted.
	Sort string
	// Count returns at most Count members (COUNT); 0 means all. With Any the search
	// stops as soon as Count members are found (they are then not the nearest).
	Count int64
	Any   bool
}

func (q *GeoSearchQuery) appendArgs(args []any) []any {
	if q.Member != "" {
		args = append(args, "FROMMEMBER", q.Member)
	} else {
		args = append(args, "FROMLONLAT", q.Longitude, q.Latitude)
	}
	if q.Radius != 0 {
		args = append(args, "BYRADIUS", q.Radius)
	} else {
		args = append(args, "BYBOX", q.Width, q.Height)
	}
	unit := q.Unit
	if unit == "" {
		unit = "m"
	}
	args = append(args, unit)
	if q.Sort != "" {
		args = append(args, q.Sort)
	}
	if q.Count > 0 {
		args = append(args, "COUNT", q.Count)
		args = appendFlag(args, q.Any, "ANY")
	}
	return args
}

// BitRange limits BitCount and BitPos to a range; nil means the whole string.
type BitRange struct {
	// Start and End are byte offsets (bit offsets with Bit), both included; negative
	// ones count from the end (-1 is the last).
	Start, End int64
	// Bit makes Start and End bit offsets (BIT; Redis 7).
	Bit bool
}

func (r *BitRange) appendArgs(args []any) []any {
	if r == nil {
		return args
	}
	args = append(args, r.Start, r.End)
	return appendFlag(args, r.Bit, "BIT")
}

// appendFlag appends token when set.
func appendFlag(args []any, set bool, token string) []any {
	if set {
		args = append(args, token)
	}
	return args
}

// appendExpiry appends a relative expiry: sec n, or ms n when d is not whole seconds;
// nothing for 0.
func appendExpiry(args []any, d time.Duration, sec, ms string) []any {
	if d == 0 {
		return args
	}
	n, isMS := durationArg(d)
	if isMS {
		return append(args, ms, n)
	}
	return append(args, sec, n)
}

// appendExpireAt appends an absolute expiry: sec unix-seconds, or ms unix-milliseconds
// when t is not a whole second; nothing for the zero time.
func appendExpireAt(args []any, t time.Time, sec, ms string) []any {
	if t.IsZero() {
		return args
	}
	n, isMS := timeArg(t)
	if isMS {
		return append(args, ms, n)
	}
	return append(args, sec, n)
}

// durationArg returns d in seconds when it is a whole number of seconds, else in
// milliseconds (ms true), rounded toward zero; a duration under 1ms is ±1ms, never 0.
func durationArg(d time.Duration) (n int64, ms bool) {
	if d%time.Second == 0 {
		return int64(d / time.Second), false
	}
	return msArg(d), true
}

// msArg returns d in milliseconds, rounded toward zero, but never 0 for a non-zero d.
func msArg(d time.Duration) int64 {
	n := d.Milliseconds()
	switch {
	case n == 0 && d > 0:
		return 1
	case n == 0 && d < 0:
		return -1
	}
	return n
}

// timeArg returns t as Unix seconds when it is a whole second, else as Unix
// milliseconds (ms true), rounded down.
func timeArg(t time.Time) (n int64, ms bool) {
	if t.Nanosecond() == 0 {
		return t.Unix(), false
	}
	return t.UnixMilli(), true
}

// timeoutArg returns a blocking command's timeout in seconds, as the decimal Redis 6+
// takes ("0.1" for 100ms), to the millisecond as msArg rounds it. 0 means no timeout: the
// call then waits until its deadline.
func timeoutArg(d time.Duration) any {
	if d%time.Second == 0 {
		return int64(d / time.Second)
	}
	return strconv.FormatFloat(float64(msArg(d))/1000, 'f', -1, 64)
}

// appendStrings appends every string of ss.
func appendStrings(args []any, ss []string) []any {
	for _, s := range ss {
		args = append(args, s)
	}
	return args
}

// appendNumKeys appends how many keys there are, then the keys (EVAL's numkeys form).
func appendNumKeys(args []any, keys []string) []any {
	args = append(args, len(keys))
	return appendStrings(args, keys)
}

// appendFieldValues appends the pairs of m, in the map's (random) order.
func appendFieldValues(args []any, m map[string]any) []any {
	for k, v := range m {
		args = append(args, k, v)
	}
	return args
}

// appendKeyValues appends the key-value pairs of m (MSET), in the map's order. Values
// are normalized to the types the client's slot-splitting path copies (see normValue).
func appendKeyValues(args []any, m map[string]any) []any {
	for k, v := range m {
		args = append(args, k, normValue(v))
	}
	return args
}

// appendSortedValues appends the pairs of m sorted by field.
func appendSortedValues(args []any, m map[string]any) []any {
	fields := make([]string, 0, len(m))
	for k := range m {
		fields = append(fields, k)
	}
	slices.Sort(fields)
	for _, f := range fields {
		args = append(args, f, m[f])
	}
	return args
}

// normValue converts the argument types the codec accepts but the client's multi-key
// split copies not (bool, float32, the small integer types) to equivalent ones it
// copies, formatted exactly as the codec would format them.
func normValue(v any) any {
	switch v := v.(type) {
	case bool:
		if v {
			return "1"
		}
		return "0"
	case float32:
		return strconv.FormatFloat(float64(v), 'f', -1, 32)
	case int8:
		return int64(v)
	case int16:
		return int64(v)
	case uint8:
		return uint64(v)
	case uint16:
		return uint64(v)
	}
	return v
}

// appendZs appends score-member pairs.
func appendZs(args []any, zs []Z) []any {
	for _, z := range zs {
		args = append(args, z.Score, z.Member)
	}
	return args
}

// appendGeoLocations appends longitude-latitude-name triples.
func appendGeoLocations(args []any, locs []GeoLocation) []any {
	for _, l := range locs {
		args = append(args, l.Longitude, l.Latitude, l.Name)
	}
	return args
}
