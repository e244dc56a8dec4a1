package command

import (
	"strconv"
	"strings"
)

// Flags is a set of command flags, as COMMAND reports them in its third field.
type Flags uint32

// The command flags. Each is named after the flag Redis reports (FlagReadOnly is
// "readonly", FlagSkipMonitor is "skip_monitor"); a flag name that Redis reports and that is
// not listed here is ignored. Redis 7.0 hides may_replicate, sentinel and only_sentinel
// from COMMAND, so those three are set only if a server reports them.
const (
	FlagWrite           Flags = 1 << iota // write: may modify the dataset
	FlagReadOnly                          // readonly: only reads keys
	FlagDenyOOM                           // denyoom: may use memory; refused when over maxmemory
	FlagAdmin                             // admin: an administrative command
	FlagPubSub                            // pubsub: a publish/subscribe command
	FlagNoScript                          // noscript: refused inside scripts
	FlagBlocking                          // blocking: may block the connection
	FlagLoading                           // loading: allowed while the dataset is loading
	FlagStale                             // stale: allowed on a replica with stale data
	FlagSkipMonitor                       // skip_monitor: not shown by MONITOR
	FlagSkipSlowlog                       // skip_slowlog: not logged in SLOWLOG
	FlagFast                              // fast: runs in O(1) or O(log N)
	FlagNoAuth                            // no_auth: allowed before authentication
	FlagMayReplicate                      // may_replicate: may be propagated to replicas
	FlagNoMandatoryKeys                   // no_mandatory_keys: keys are optional
	FlagMovableKeys                       // movablekeys: key positions depend on the arguments
	FlagNoMulti                           // no_multi: refused inside MULTI
	FlagAllowBusy                         // allow_busy: allowed while a script or function is busy
	FlagSentinel                          // sentinel: available in Sentinel mode
	FlagOnlySentinel                      // only_sentinel: available only in Sentinel mode
	FlagAsking                            // asking: accepted on an importing slot without ASKING
	FlagModule                            // module: implemented by a module
	FlagNoAsyncLoading                    // no_async_loading: refused during async loading
)

// flagNames lists the Redis name of every flag, in bit order.
var flagNames = [...]string{
	"write", "readonly", "denyoom", "admin", "pubsub", "noscript", "blocking", "loading",
	"stale", "skip_monitor", "skip_slowlog", "fast", "no_auth", "may_replicate",
	"no_mandatory_keys", "movablekeys", "no_multi", "allow_busy", "sentinel",
	"only_sentinel", "asking", "module", "no_async_loading",
}

// flagGoNames lists the Go name of every flag, in bit order, for the generator.
var flagGoNames = [...]string{
	"FlagWrite", "FlagReadOnly", "FlagDenyOOM", "FlagAdmin", "FlagPubSub", "FlagNoScript",
	"FlagBlocking", "FlagLoading", "FlagStale", "FlagSkipMonitor", "FlagSkipSlowlog",
	"FlagFast", "FlagNoAuth", "FlagMayReplicate", "FlagNoMandatoryKeys", "FlagMovableKeys",
	"FlagNoMulti", "FlagAllowBusy", "FlagSentinel", "FlagOnlySentinel", "FlagAsking",
	"FlagModule", "FlagNoAsyncLoading",
}

// ParseFlag returns the flag Redis names name (case-insensitive), or 0 when unknown.
func ParseFlag(name string) Flags {
	for i, n := range flagNames {
		if strings.EqualFold(n, name) {
			return 1 << i
		}
	}
	return 0
}

// String returns the Redis names of the flags in f, separated by "|", such as
// "readonly|fast"; "0" for no flags. Unknown bits are shown in hex.
func (f Flags) String() string {
	return bitString(uint64(f), flagNames[:])
}

// GoString returns f as a Go expression, such as "FlagReadOnly | FlagFast"; the generator
// writes it into the table.
func (f Flags) GoString() string {
	return bitGoString(uint64(f), flagGoNames[:], "Flags")
}

// bitString names the set bits of v with names (bit i is names[i]), joined by "|".
func bitString(v uint64, names []string) string {
	if v == 0 {
		return "0"
	}
	var b strings.Builder
	for i := 0; v != 0; i++ {
		if v&1 != 0 {
			if b.Len() > 0 {
				b.WriteByte('|')
			}
			if i < len(names) {
				b.WriteString(names[i])
			} else {
				b.WriteString("0x")
				b.WriteString(strconv.FormatUint(uint64(1)<<i, 16))
			}
		}
		v >>= 1
	}
	return b.String()
}

// bitGoString writes v as an OR of Go constants; bits without a name as typ(0x...).
func bitGoString(v uint64, names []string, typ string) string {
	if v == 0 {
		return "0"
	}
	var b strings.Builder
	for i := 0; v != 0; i++ {
		if v&1 != 0 {
			if b.Len() > 0 {
				b.WriteString(" | ")
			}
			if i < len(names) {
				b.WriteString(names[i])
			} else {
				b.WriteString(typ + "(0x" + strconv.FormatUint(uint64(1)<<i, 16) + ")")
			}
		}
		v >>= 1
	}
	return b.String()
}
