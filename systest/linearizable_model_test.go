package systest

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/anishathalye/porcupine"
)

// The sequential model the linearizability check (TestReliabilityLinearizable) holds
// histories to: per key, a Redis string holding an integer, under SET, GET and INCR.
// MGET is checked as one GET per key over the MGET's whole interval: sound (each key
// is read somewhere inside it) whether the client split it across slots or not, though
// it does not check the atomicity of a single-slot MGET.

// linAbsent is the model's state of a key that does not exist.
const linAbsent = math.MinInt64

// linInput is one operation on one key.
type linInput struct {
	op    byte // 's' SET, 'g' GET, 'i' INCR
	key   string
	value int64 // SET's argument
}

// linOutput is what the operation returned; unknown marks a write whose outcome the
// client could not know (its reply was lost): it may or may not have taken effect.
type linOutput struct {
	unknown bool
	exists  bool  // GET: the key existed
	value   int64 // GET's value, INCR's result
}

// linNever is the return time of an operation with an unknown outcome: it may take
// effect at any point after its call, including after every other operation (which
// is the same as never).
const linNever = math.MaxInt64

var linModel = porcupine.Model{
	Partition: func(history []porcupine.Operation) [][]porcupine.Operation {
		byKey := map[string][]porcupine.Operation{}
		var keys []string
		for _, op := range history {
			k := op.Input.(linInput).key
			if _, ok := byKey[k]; !ok {
				keys = append(keys, k)
			}
			byKey[k] = append(byKey[k], op)
		}
		out := make([][]porcupine.Operation, 0, len(keys))
		for _, k := range keys {
			out = append(out, byKey[k])
		}
		return out
	},
	Init: func() any { return int64(linAbsent) },
	Step: func(state, input, output any) (bool, any) {
		st, in, out := state.(int64), input.(linInput), output.(linOutput)
		switch in.op {
		case 's':
			return true, in.value
		case 'i':
			next := int64(1)
			if st != linAbsent {
				next = st + 1
			}
			return out.unknown || out.value == next, next
		default: // 'g'
			if out.unknown {
				return true, st
			}
			if !out.exists {
				return st == linAbsent, st
			}
			return st == out.value, st
		}
	},
	Hash: func(state any) uint64 { return uint64(state.(int64)) },
	DescribeOperation: func(input, output any) string {
		in, out := input.(linInput), output.(linOutput)
		res := fmt.Sprint(out.value)
		switch {
		case out.unknown:
			res = "unknown"
		case in.op == 'g' && !out.exists:
			res = "nil"
		}
		switch in.op {
		case 's':
			return fmt.Sprintf("SET %s %d -> %s", in.key, in.value, map[bool]string{true: "unknown", false: "OK"}[out.unknown])
		case 'i':
			return fmt.Sprintf("INCR %s -> %s", in.key, res)
		}
		return fmt.Sprintf("GET %s -> %s", in.key, res)
	},
	DescribeState: func(state any) string {
		if state.(int64) == linAbsent {
			return "(absent)"
		}
		return fmt.Sprint(state.(int64))
	},
}

// linCheck checks history against linModel within timeout. On an illegal history it
// returns, for the report, each illegal key's operations in call order and the path of
// porcupine's visualization of the whole history (an HTML file under os.TempDir).
func linCheck(history []porcupine.Operation, timeout time.Duration, name string) (porcupine.CheckResult, string) {
	res, info := porcupine.CheckOperationsVerbose(linModel, history, timeout)
	if res != porcupine.Illegal {
		return res, ""
	}
	var b strings.Builder
	for _, part := range linModel.Partition(history) {
		if porcupine.CheckOperationsTimeout(linModel, part, timeout) != porcupine.Illegal {
			continue
		}
		sort.Slice(part, func(i, j int) bool { return part[i].Call < part[j].Call })
		fmt.Fprintf(&b, "\nillegal history of key %s (%d operations, times in µs since the start):", part[0].Input.(linInput).key, len(part))
		for i, op := range part {
			if i == 200 {
				fmt.Fprintf(&b, "\n  … %d more", len(part)-i)
				break
			}
			ret := "never (unknown outcome)"
			if op.Return != linNever {
				ret = fmt.Sprint(op.Return / 1e3)
			}
			fmt.Fprintf(&b, "\n  client %2d [%d, %s] %s", op.ClientId, op.Call/1e3, ret, linModel.DescribeOperation(op.Input, op.Output))
		}
	}
	path := filepath.Join(os.TempDir(), fmt.Sprintf("redline-linearizability-%s-%d.html", name, time.Now().UnixNano()))
	if f, err := os.Create(path); err == nil {
		err = porcupine.Visualize(linModel, info, f)
		f.Close()
		if err == nil {
			fmt.Fprintf(&b, "\nvisualization: %s", path)
		}
	}
	return res, b.String()
}

// linSwapSelfTest proves the checker can fail on this history: it finds two INCRs of
// one key with known results, the first returning before the second was called, with no
// SET of the key that could take effect between them (no SET whose interval reaches into
// [first call, second return], an unknown-outcome SET's reaching forever) — so the
// second's result must be larger — swaps their results and checks the copy, which must
// be illegal (checking the key's operations: the partition is independent of the
// others). It returns what it swapped, or an error when no such pair exists or the
// swapped history passed.
func linSwapSelfTest(history []porcupine.Operation, timeout time.Duration) (string, error) {
	byKey := map[string][]int{}
	for i, op := range history {
		byKey[op.Input.(linInput).key] = append(byKey[op.Input.(linInput).key], i)
	}
	keys := make([]string, 0, len(byKey))
	for k := range byKey {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		ops := byKey[k]
		for _, ai := range ops {
			a := history[ai]
			if a.Input.(linInput).op != 'i' || a.Output.(linOutput).unknown {
				continue
			}
			for _, bi := range ops {
				b := history[bi]
				if b.Input.(linInput).op != 'i' || b.Output.(linOutput).unknown || b.Call <= a.Return {
					continue
				}
				setBetween := false
				for _, si := range ops {
					s := history[si]
					if s.Input.(linInput).op == 's' && s.Return >= a.Call && s.Call <= b.Return {
						setBetween = true
						break
					}
				}
				if setBetween {
					continue
				}
				// The key's partition alone: the model's partitions are checked
				// independently, so it is illegal exactly when the whole history is.
				var swapped []porcupine.Operation
				for _, i := range ops {
					op := history[i]
					switch i {
					case ai:
						op.Output = b.Output
					case bi:
						op.Output = a.Output
					}
					swapped = append(swapped, op)
				}
				what := fmt.Sprintf("swapped the replies of INCR %s -> %d and a later INCR %s -> %d", k, a.Output.(linOutput).value, k, b.Output.(linOutput).value)
				if res := porcupine.CheckOperationsTimeout(linModel, swapped, timeout); res != porcupine.Illegal {
					return what, errors.New("the checker reported " + string(res) + " after " + what)
				}
				return what, nil
			}
		}
	}
	return "", errors.New("no pair of INCRs to swap in the history")
}
