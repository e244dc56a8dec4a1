package typedgen

import (
	_ "embed"
	"fmt"
	"strings"
	"unicode"
)

// Spec is the committed spec.txt.
//
//go:embed spec.txt
var Spec []byte

// entry is one method of spec.txt.
type entry struct {
	line   int
	family string
	name   string
	cmd    []string // the command's name and, for a container, its subcommand
	alt    string   // the command sent instead when the ttl or time parameter is not whole seconds
	tokens []token  // the arguments after cmd, in the order they are sent
	ret    string   // a key of retKinds
	ref    string   // the parameter a "keyed" reply names
	doc    []string
}

// token is a literal word or a parameter.
type token struct {
	literal string
	name    string // a parameter's name
	typ     string // a parameter's type, as written
	t       argType
}

func (t token) isParam() bool { return t.name != "" }

// parse reads spec.txt: "## family" headings, "#" comments, blank lines, and entries:
//
//	Name: WORD [WORD] arg:type… -> kind
//		Doc comment lines (indented).
func parse(src []byte) ([]*entry, error) {
	var (
		out    []*entry
		family string
		cur    *entry
		errs   []string
	)
	fail := func(n int, format string, a ...any) {
		errs = append(errs, fmt.Sprintf("spec.txt:%d: %s", n, fmt.Sprintf(format, a...)))
	}
	for i, line := range strings.Split(string(src), "\n") {
		n := i + 1
		line = strings.TrimRight(line, " \t\r")
		switch {
		case line == "":
			cur = nil
		case strings.HasPrefix(line, "## "):
			family, cur = strings.TrimSpace(line[3:]), nil
		case strings.HasPrefix(line, "#"):
			cur = nil
		case line[0] == ' ' || line[0] == '\t':
			if cur == nil {
				fail(n, "an indented doc line must follow an entry")
				continue
			}
			cur.doc = append(cur.doc, strings.TrimSpace(line))
		default:
			if family == "" {
				fail(n, "an entry before the first \"## family\" heading")
			}
			e, err := parseEntry(line)
			if err != nil {
				fail(n, "%v", err)
				cur = &entry{} // absorbs its doc lines
				continue
			}
			e.line, e.family = n, family
			out = append(out, e)
			cur = e
		}
	}
	for _, e := range out {
		if len(e.doc) == 0 {
			fail(e.line, "%s has no doc comment", e.name)
		} else if !strings.HasPrefix(e.doc[0], e.name+" ") {
			fail(e.line, "the doc comment of %s must begin with its name", e.name)
		}
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("%s", strings.Join(errs, "\n"))
	}
	return out, nil
}

func parseEntry(line string) (*entry, error) {
	name, rest, ok := strings.Cut(line, ":")
	if !ok || !isIdent(name) || !unicode.IsUpper(rune(name[0])) {
		return nil, fmt.Errorf("want \"Name: COMMAND args -> kind\", got %q", line)
	}
	sig, ret, ok := strings.Cut(rest, "->")
	if !ok {
		return nil, fmt.Errorf("%s: no \"-> kind\"", name)
	}
	e := &entry{name: name}
	ret = strings.TrimSpace(ret)
	kind, ref, _ := strings.Cut(ret, ":")
	k, ok := retKinds[kind]
	if !ok {
		return nil, fmt.Errorf("%s: unknown reply kind %q", name, kind)
	}
	if k.ref != (ref != "") {
		return nil, fmt.Errorf("%s: reply kind %q: a parameter name goes after the colon for keyed, and only there", name, ret)
	}
	e.ret, e.ref = kind, ref

	words := strings.Fields(sig)
	if len(words) == 0 || !isLiteral(strings.ReplaceAll(words[0], "/", "")) {
		return nil, fmt.Errorf("%s: the command name must come first, in upper case", name)
	}
	e.cmd = []string{words[0]}
	if c, alt, ok := strings.Cut(words[0], "/"); ok {
		e.cmd[0], e.alt = c, alt
	}
	seen := map[string]bool{}
	for _, w := range words[1:] {
		pname, typ, isParam := strings.Cut(w, ":")
		if !isParam {
			if !isLiteral(w) {
				return nil, fmt.Errorf("%s: %q is neither an upper-case word nor name:type", name, w)
			}
			e.tokens = append(e.tokens, token{literal: w})
			continue
		}
		if !isIdent(pname) || unicode.IsUpper(rune(pname[0])) || reserved[pname] {
			return nil, fmt.Errorf("%s: bad parameter name %q (lower-case identifier, not one of c, ctx, args, cmd, n, ms)", name, pname)
		}
		if seen[pname] {
			return nil, fmt.Errorf("%s: parameter %q twice", name, pname)
		}
		seen[pname] = true
		t, err := typeOf(typ)
		if err != nil {
			return nil, fmt.Errorf("%s: %s: %v", name, pname, err)
		}
		e.tokens = append(e.tokens, token{name: pname, typ: typ, t: t})
	}
	return e, nil
}
