package redline

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"

	"github.com/redline-go/redline/resp"
)

// The batches of the router's differential test (TestRouterDifferential): random
// mixes of the command kinds the router treats differently, over a few keys, and how
// their results are compared.

// diffClass is how the router handles a command.
type diffClass string

const (
	diffSingle   diffClass = "single-slot"
	diffMulti    diffClass = "multi-slot" // MGET, MSET, DEL, EXISTS across slots: split
	diffFanout   diffClass = "fan-out"    // PING, DBSIZE, SCRIPT EXISTS: every primary
	diffBlocking diffClass = "blocking"   // BLPOP with a small timeout
	diffUnknown  diffClass = "unknown"    // not in the command table: a random primary
)

// diffCmd is one command of a batch.
type diffCmd struct {
	class diffClass
	args  []any
}

func (c diffCmd) String() string {
	parts := make([]string, len(c.args))
	for i, a := range c.args {
		parts[i] = fmt.Sprint(a)
	}
	return strings.Join(parts, " ")
}

// diffKeys are the test's keys: strings and lists on different slots (no hash tags),
// so multi-key commands are split across nodes.
type diffKeys struct {
	strs, lists []string
}

func newDiffKeys() diffKeys {
	var k diffKeys
	for i := range 6 {
		k.strs = append(k.strs, "diff:s"+strconv.Itoa(i))
	}
	for i := range 3 {
		k.lists = append(k.lists, "diff:l"+strconv.Itoa(i))
	}
	return k
}

func (k diffKeys) all() []string { return append(append([]string(nil), k.strs...), k.lists...) }

// diffEmptyList is a list no command pushes to: a BLPOP of it waits its timeout out.
const diffEmptyList = "diff:empty"

// diffInitList is every list's content at the start of a run.
var diffInitList = []any{"a", "b", "c"}

// genBatch returns a random batch of 3 to 12 commands. It follows each list's length
// as a sequential run would, so a BLPOP goes to a list that has elements then (an
// RPUSH is put first when none has).
func genBatch(r *rand.Rand, k diffKeys, round int) []diffCmd {
	n := 3 + r.IntN(10)
	llen := map[string]int{}
	for _, l := range k.lists {
		llen[l] = len(diffInitList)
	}
	str := func() string { return k.strs[r.IntN(len(k.strs))] }
	distinct := func(from []string, m int) []string {
		p := r.Perm(len(from))[:m]
		out := make([]string, m)
		for i, j := range p {
			out[i] = from[j]
		}
		return out
	}
	var b []diffCmd
	add := func(class diffClass, args ...any) { b = append(b, diffCmd{class, args}) }
	for i := 0; i < n; i++ {
		val := round*1000 + i
		l := k.lists[r.IntN(len(k.lists))]
		switch x := r.IntN(100); {
		case x < 30:
			switch r.IntN(6) {
			case 0, 1:
				add(diffSingle, "SET", str(), val)
			case 2:
				add(diffSingle, "GET", str())
			case 3:
				add(diffSingle, "INCR", str())
			case 4:
				add(diffSingle, "APPEND", str(), r.IntN(10))
			default:
				add(diffSingle, "DEL", str())
			}
		case x < 42:
			switch r.IntN(4) {
			case 0:
				add(diffSingle, "RPUSH", l, val)
				llen[l]++
			case 1:
				add(diffSingle, "LPOP", l)
				llen[l] = max(0, llen[l]-1)
			case 2:
				add(diffSingle, "LRANGE", l, 0, -1)
			default:
				add(diffSingle, "LLEN", l)
			}
		case x < 72:
			switch r.IntN(4) {
			case 0:
				args := []any{"MGET"}
				for _, s := range distinct(k.strs, 2+r.IntN(2)) {
					args = append(args, s)
				}
				add(diffMulti, args...)
			case 1:
				args := []any{"MSET"}
				for j, s := range distinct(k.strs, 2+r.IntN(2)) {
					args = append(args, s, val*10+j)
				}
				add(diffMulti, args...)
			case 2:
				args := []any{"DEL"}
				for _, key := range distinct(k.all(), 2+r.IntN(2)) {
					args = append(args, key)
					if _, ok := llen[key]; ok {
						llen[key] = 0
					}
				}
				add(diffMulti, args...)
			default:
				args := []any{"EXISTS"}
				for _, key := range distinct(k.all(), 2+r.IntN(3)) {
					args = append(args, key)
				}
				add(diffMulti, args...)
			}
		case x < 82:
			switch r.IntN(3) {
			case 0:
				add(diffFanout, "PING")
			case 1:
				add(diffFanout, "DBSIZE")
			default:
				add(diffFanout, "SCRIPT", "EXISTS", "0000000000000000000000000000000000000000")
			}
		case x < 92:
			if llen[l] == 0 {
				add(diffSingle, "RPUSH", l, val)
				llen[l]++
			}
			add(diffBlocking, "BLPOP", l, "0.1")
			llen[l]--
		default:
			add(diffUnknown, "DIFFTEST.NOSUCHCOMMAND", str())
		}
	}
	return b
}

// diffOutcome is a result as the comparison sees it.
type diffOutcome struct {
	text string
	// transient: a transport error or a "try again" reply (the call may or may not have
	// run, or did not run for a reason of the moment): the round cannot be compared.
	transient bool
	// leak: a MOVED or ASK redirect reached the caller.
	leak bool
	// bad names a reply that no order of the commands could give (a DBSIZE above the
	// number of keys there are).
	bad string
}

// diffNorm turns a result into comparable text. DBSIZE is global and the keys move
// between nodes under the test's migrations (a count taken during a MIGRATE can miss
// a key), so it is only checked to be a count within the test's key count.
func diffNorm(c diffCmd, res Result, nkeys int) diffOutcome {
	if err := res.Err(); err != nil {
		var re *RedisError
		if errors.As(err, &re) {
			switch {
			case re.IsMoved() || re.IsAsk():
				return diffOutcome{text: "redirect reached the caller: " + re.Msg, leak: true}
			case re.IsRetryable():
				return diffOutcome{text: "-" + re.Msg, transient: true}
			}
			return diffOutcome{text: "-" + re.Msg}
		}
		return diffOutcome{text: "transport error: " + err.Error(), transient: true}
	}
	v, _ := res.Value()
	if c.args[0] == "DBSIZE" {
		if v.Type == resp.TypeInteger && v.Int >= 0 && v.Int <= int64(nkeys) {
			return diffOutcome{text: "(a count of 0.." + strconv.Itoa(nkeys) + ")"}
		}
		return diffOutcome{text: diffText(v), bad: "DBSIZE outside 0.." + strconv.Itoa(nkeys) + " (the keys there are): a shard counted twice or a wrong reply"}
	}
	return diffOutcome{text: diffText(v)}
}

// diffText is an exact, canonical text of a reply (resp.Value.String elides).
func diffText(v resp.Value) string {
	switch v.Type {
	case resp.TypeArray, resp.TypeSet, resp.TypePush:
		parts := make([]string, len(v.Elems))
		for i, e := range v.Elems {
			parts[i] = diffText(e)
		}
		return "[" + strings.Join(parts, " ") + "]"
	case resp.TypeInteger:
		return strconv.FormatInt(v.Int, 10)
	case resp.TypeNull:
		return "nil"
	case resp.TypeBulkString, resp.TypeSimpleString, resp.TypeVerbatim:
		return strconv.Quote(string(v.Str))
	}
	return v.String()
}
