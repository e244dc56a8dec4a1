package typedgen

import (
	"bytes"
	"fmt"
	"regexp"
	"strings"

	"github.com/redline-go/redline/internal/command"
)

// The methods of redline.Pipe: one per method of Client, with the same parameters but
// ctx, queuing the same command in the pipe and returning a Future of what the Client
// method returns, decoded by the same decoder once the pipe has run.

// multiResults are the reply kinds whose Client method returns several values: in a
// Future they are one struct, with a decoder that builds it (both in the root package's
// pipe_types.go).
var multiResults = map[string]struct{ typ, dec string }{
	"keyvalue":   {"KeyValue", "decodeKeyValueFuture"},
	"keyz":       {"KeyZ", "decodeKeyZFuture"},
	"keystrings": {"KeyValues", "decodeKeyStringsFuture"},
	"keyzs":      {"KeyZs", "decodeKeyZsFuture"},
}

var (
	// callExpr is an expr calling one function on the Result alone: the function is the
	// decoder.
	callExpr = regexp.MustCompile(`^([A-Za-z][A-Za-z0-9]*)\(%\[1\]s\)$`)
	// methodExpr is an expr calling a method of Result: the method expression is.
	methodExpr = regexp.MustCompile(`^%\[1\]s\.([A-Z][A-Za-z0-9]*)\(\)$`)
	// pairResults is a results list of one value and an error.
	pairResults = regexp.MustCompile(`^\(([^,]+), error\)$`)
)

// future returns the type a Future of kind k holds and the decoder expression that
// fills it (ref, the parameter a keyed reply names, captured where the kind has one).
func future(kind string, k retKind, ref string) (typ, dec string, err error) {
	if m, ok := multiResults[kind]; ok {
		return m.typ, m.dec, nil
	}
	switch k.results {
	case "error":
		return "struct{}", "decodeOKFuture", nil
	case "Result":
		return "Result", "decodeResultFuture", nil
	}
	p := pairResults.FindStringSubmatch(k.results)
	if p == nil {
		return "", "", fmt.Errorf("reply kind %s: results %s have no Future form (add it to multiResults)", kind, k.results)
	}
	typ = p[1]
	switch {
	case !k.ref && callExpr.MatchString(k.expr):
		return typ, callExpr.FindStringSubmatch(k.expr)[1], nil
	case !k.ref && methodExpr.MatchString(k.expr):
		return typ, "Result." + methodExpr.FindStringSubmatch(k.expr)[1], nil
	}
	if k.ref {
		// The decoder reads the parameter when the Future is read: it gets its own copy
		// (the caller may reuse the slice once the pipe has run).
		body := fmt.Sprintf(k.expr, "r", "names")
		return typ, fmt.Sprintf("func(names []string) func(Result) (%[1]s, error) {\nreturn func(r Result) (%[1]s, error) { return %[2]s }\n}(append([]string(nil), %[3]s...))", typ, body, ref), nil
	}
	body := fmt.Sprintf(k.expr, "r", ref)
	return typ, fmt.Sprintf("func(r Result) (%s, error) { return %s }", typ, body), nil
}

// writePipeMethod writes r's method of Pipe; it reports whether the method uses package
// time.
func writePipeMethod(b *bytes.Buffer, r resolved) (usesTime bool, err error) {
	k := retKinds[r.ret]
	typ, dec, err := future(r.ret, k, r.ref)
	if err != nil {
		return false, err
	}
	params, usesTime := signature(r)
	holds := "what Client." + r.name + " returns"
	if m, ok := multiResults[r.ret]; ok {
		holds = "as a " + m.typ + ", what Client." + r.name + " returns"
	}
	intro := fmt.Sprintf("%s queues the command of Client.%s; its Future holds, once the pipe has run, %s.", r.name, r.name, holds)
	for _, line := range wrap(intro, 86) {
		b.WriteString("// " + line + "\n")
	}
	b.WriteString("//\n")
	note := notes(r)
	if r.info.Has(command.FlagBlocking) {
		note += " In Client.Pipelined it is a barrier: the commands before it complete first, those after it start after it (see DoMulti)."
	}
	for _, line := range wrap(note, 86) {
		b.WriteString("// " + line + "\n")
	}
	fmt.Fprintf(b, "func (p *Pipe) %s(%s) Future[%s] {\n", r.name, strings.Join(params, ", "), typ)
	head := writeHead(b, r)
	b.WriteString("args := p.args()\n")
	writeAppends(b, head, r.tokens)
	fmt.Fprintf(b, "return newFuture(p, p.pushTyped(args), %s)\n}\n\n", dec)
	return usesTime || strings.Contains(typ, "time."), nil
}
