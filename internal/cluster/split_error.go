package cluster

import (
	"fmt"
	"strings"

	"github.com/redline-go/redline/internal/command"
	"github.com/redline-go/redline/internal/rerr"
	"github.com/redline-go/redline/resp"
)

// SplitError is the error of a command split by slot (MGET, MSET, DEL, UNLINK, EXISTS,
// TOUCH whose keys span several slots: one sub-command per slot, sent in parallel) when
// one or more of its parts failed. The parts are independent: each is atomic on its
// own, and the others ran as if alone, so a failed MSET may have set some of its keys.
// Parts says, part by part, which keys were applied and which not.
type SplitError struct {
	Command string      // the command's name in lower case ("mset")
	Parts   []SplitPart // every part, failed or not, in the order their slots first appear
	write   bool        // the command writes: its parts were "applied" (else "answered")
}

// SplitPart is one slot's part of a split command and its outcome.
type SplitPart struct {
	Slot  int
	Keys  []string   // the part's keys, in the command's order
	Err   error      // nil: the part succeeded (for a write: it was applied)
	Reply resp.Value // the part's reply when it succeeded: DEL's count, MGET's values…
}

// MayHaveExecuted reports whether the part may have run: it succeeded, or its reply
// was lost after it was written.
func (p SplitPart) MayHaveExecuted() bool { return p.Err == nil || rerr.MayHaveExecuted(p.Err) }

// SafeToRetry reports whether the part failed and certainly did not reach a server.
func (p SplitPart) SafeToRetry() bool { return p.Err != nil && rerr.SafeToRetry(p.Err) }

// MayHaveExecuted reports whether any part may have run: one succeeded, or its reply
// was lost after it was written. False means nothing of the command ran.
func (e *SplitError) MayHaveExecuted() bool {
	for _, p := range e.Parts {
		if p.MayHaveExecuted() {
			return true
		}
	}
	return false
}

// SafeToRetry reports whether every part failed without reaching a server, so
// sending the whole command again cannot execute any part of it twice.
func (e *SplitError) SafeToRetry() bool {
	for _, p := range e.Parts {
		if !p.SafeToRetry() {
			return false
		}
	}
	return len(e.Parts) > 0
}

// AppliedKeys returns the keys of the parts that succeeded, in part order.
func (e *SplitError) AppliedKeys() []string { return e.keys(true) }

// FailedKeys returns the keys of the parts that failed (not applied, or whose reply
// was lost: see each part's MayHaveExecuted), in part order.
func (e *SplitError) FailedKeys() []string { return e.keys(false) }

func (e *SplitError) keys(ok bool) []string {
	var out []string
	for _, p := range e.Parts {
		if (p.Err == nil) == ok {
			out = append(out, p.Keys...)
		}
	}
	return out
}

// Unwrap returns the failed parts' errors, so that errors.Is and errors.As reach them
// (a *RedisError such as NOPERM, a *NodeError, a *DeadlineError…).
func (e *SplitError) Unwrap() []error {
	var out []error
	for _, p := range e.Parts {
		if p.Err != nil {
			out = append(out, p.Err)
		}
	}
	return out
}

// splitShown is how many parts of each outcome the message lists; splitKeysShown how
// many keys of each part.
const (
	splitShown     = 4
	splitKeysShown = 4
)

// Error says how many parts failed and lists the parts by outcome — not applied, may
// have been applied (reply lost), applied — each with its keys, its slot and, failed,
// its cause, e.g. `redline: mset split by slot into 3 parts, 1 failed; not applied:
// "other:z" (slot 1859): NOPERM … (from 127.0.0.1:7001); applied: "app:a" (slot 16169),
// "app:b" (slot 3914)`. A read-only command's parts are "failed", "reply lost" or
// "answered". At most 4 parts of each outcome and 4 keys of each part are listed.
func (e *SplitError) Error() string {
	failed := 0
	for _, p := range e.Parts {
		if p.Err != nil {
			failed++
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "redline: %s split by slot into %d parts, ", e.Command, len(e.Parts))
	if failed == len(e.Parts) {
		b.WriteString("every part failed")
	} else {
		fmt.Fprintf(&b, "%d failed", failed)
	}
	done, not, lost := "answered", "failed", "reply lost"
	if e.write {
		done, not, lost = "applied", "not applied", "may have been applied (reply lost)"
	}
	e.list(&b, not, func(p SplitPart) bool { return p.Err != nil && !p.MayHaveExecuted() })
	e.list(&b, lost, func(p SplitPart) bool { return p.Err != nil && p.MayHaveExecuted() })
	e.list(&b, done, func(p SplitPart) bool { return p.Err == nil })
	return b.String()
}

// list writes "; what: part, part…" for the parts that match (nothing if none).
func (e *SplitError) list(b *strings.Builder, what string, match func(SplitPart) bool) {
	n := 0
	for _, p := range e.Parts {
		if !match(p) {
			continue
		}
		n++
		if n > splitShown {
			continue
		}
		if n == 1 {
			fmt.Fprintf(b, "; %s: ", what)
		} else {
			b.WriteString(", ")
		}
		for i, k := range p.Keys[:min(len(p.Keys), splitKeysShown)] {
			if i > 0 {
				b.WriteByte(' ')
			}
			fmt.Fprintf(b, "%q", k)
		}
		if len(p.Keys) > splitKeysShown {
			fmt.Fprintf(b, " +%d more", len(p.Keys)-splitKeysShown)
		}
		fmt.Fprintf(b, " (slot %d)", p.Slot)
		if p.Err != nil {
			b.WriteString(": ")
			b.WriteString(strings.TrimPrefix(p.Err.Error(), "redline: "))
		}
	}
	if n > splitShown {
		fmt.Fprintf(b, " and %d more parts", n-splitShown)
	}
}

// splitErr builds the error of a split command some of whose parts failed: each
// group's keys (taken from its sub-command) and its result's error.
func splitErr(info *command.Info, groups []*splitGroup, results []Reply) *SplitError {
	e := &SplitError{Command: info.Name, Parts: make([]SplitPart, len(groups)), write: !info.ReadOnly()}
	var buf [16]int
	for i, g := range groups {
		idx, _ := info.KeyIndexes(g.args, buf[:0])
		keys := make([]string, len(idx))
		for j, k := range idx {
			keys[j] = strings.Clone(ArgString(g.args[k]))
		}
		e.Parts[i] = SplitPart{Slot: g.slot, Keys: keys, Err: results[i].Err()}
		if e.Parts[i].Err == nil {
			e.Parts[i].Reply = results[i].val
		}
	}
	return e
}
