package redline

import "time"

// Hash-field expiration (Redis 7.4+: HEXPIRE, HTTL, HPERSIST…) and the hash commands of
// Redis 8.0 that set or drop a field's expiry as they read or write it (HGETEX, HSETEX,
// HGETDEL): the types their typed methods take and return.

// ExpireCondition is when an expiry is set (EXPIRE's and HEXPIRE's NX, XX, GT, LT); ""
// for always.
type ExpireCondition string

// The conditions of an expiry.
const (
	ExpireIfNone    ExpireCondition = "NX" // only where there is no expiry yet
	ExpireIfAny     ExpireCondition = "XX" // only where there is an expiry already
	ExpireIfGreater ExpireCondition = "GT" // only where the new expiry is later (no expiry counts as infinite)
	ExpireIfLess    ExpireCondition = "LT" // only where the new expiry is earlier (no expiry counts as infinite)
)

// NoSuchField is the TTL HTTL and HPTTL return for a field that does not exist (or a
// key that does not exist); a field without expiry has NoExpiry.
const NoSuchField time.Duration = -2

// HSetExOptions are the options of HSetEx: a condition on the fields and their expiry.
// nil sets the fields unconditionally and drops their expiry.
type HSetExOptions struct {
	// FNX sets the fields only if none of them exists, FXX only if all of them exist;
	// otherwise HSetEx sets nothing and returns false.
	FNX, FXX bool
	// TTL sets the fields' expiry (EX, or PX when it is not a whole number of seconds);
	// 0 means none.
	TTL time.Duration
	// ExpireAt sets the fields' expiry as a point in time (EXAT, or PXAT when it is not
	// a whole second); the zero time means none.
	ExpireAt time.Time
	// KeepTTL keeps the expiry each field already has (KEEPTTL).
	KeepTTL bool
}

func (o *HSetExOptions) appendArgs(args []any) []any {
	if o == nil {
		return args
	}
	args = appendFlag(args, o.FNX, "FNX")
	args = appendFlag(args, o.FXX, "FXX")
	args = appendExpiry(args, o.TTL, "EX", "PX")
	args = appendExpireAt(args, o.ExpireAt, "EXAT", "PXAT")
	return appendFlag(args, o.KeepTTL, "KEEPTTL")
}

// appendNumStrings appends how many strings there are, then the strings (HEXPIRE's
// FIELDS numfields field…).
func appendNumStrings(args []any, ss []string) []any {
	args = append(args, len(ss))
	return appendStrings(args, ss)
}

// appendNumFieldValues appends the number of fields of m, then its pairs (HSETEX's
// FIELDS numfields field value…).
func appendNumFieldValues(args []any, m map[string]any) []any {
	args = append(args, len(m))
	return appendFieldValues(args, m)
}

// decodeFieldTTLs returns HTTL's (unit time.Second) or HPTTL's (time.Millisecond)
// array reply: one TTL per field, NoExpiry for -1, NoSuchField for -2.
func decodeFieldTTLs(r Result, unit time.Duration) ([]time.Duration, error) {
	ns, err := r.Int64s()
	if err != nil {
		return nil, err
	}
	out := make([]time.Duration, len(ns))
	for i, n := range ns {
		switch {
		case n == -1:
			out[i] = NoExpiry
		case n == -2:
			out[i] = NoSuchField
		default:
			out[i] = time.Duration(n) * unit
		}
	}
	return out, nil
}
