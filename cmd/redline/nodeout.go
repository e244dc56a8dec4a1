package main

import (
	"encoding/csv"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/redline-go/redline"
	"github.com/redline-go/redline/resp"
)

// nodeReply is one node's part of a command run on chosen nodes.
type nodeReply struct {
	addr, role string
	v          resp.Value
	err        error    // the call failed (not a server error reply)
	fields     []kv     // the reply as named fields (INFO text, a map), nil if not
	cells      []string // the row in the table, once built
}

// kv is one named field.
type kv struct{ k, v string }

// onNodes prints the replies of a command run on chosen nodes, grouped by node: a table
// (one row per node) when every reply is a number, a map or INFO-style text; else each
// node's reply under its name. order is the nodes in the order to show (nil: as the
// client lists them). 1 if any node failed or answered an error.
func (s *session) onNodes(words []string, order []string, res redline.NodeResults) int {
	if len(res) == 0 {
		if s.out.json {
			printJSON(s.stdout, []any{})
		}
		fmt.Fprintf(s.stderr, "%s: no node to run %s on (the topology lists none)\n", s.name, strings.ToUpper(words[0]))
		return 1
	}
	if order == nil {
		order = s.c.NodeAddrs()
	}
	roles := map[string]string{}
	for _, n := range s.c.Stats().Nodes {
		roles[n.Addr] = string(n.Role)
	}
	var replies []*nodeReply
	seen := map[string]bool{}
	add := func(addr string) {
		r, ok := res[addr]
		if !ok || seen[addr] {
			return
		}
		seen[addr] = true
		nr := &nodeReply{addr: addr, role: roles[addr]}
		if nr.role == "" {
			nr.role = "?"
		}
		nr.v, nr.err = r.Value()
		var re *redline.RedisError
		if nr.err != nil && errors.As(nr.err, &re) {
			nr.err = nil // the server's error reply is in v
		}
		replies = append(replies, nr)
	}
	for _, a := range order {
		add(a)
	}
	for _, a := range slices.Sorted(mapKeys(res)) {
		add(a)
	}
	code := 0
	for _, r := range replies {
		if r.err != nil || r.v.IsError() {
			code = 1
		}
	}
	tabular := fieldsOf(replies)
	switch {
	case s.out.json:
		s.nodesJSON(replies)
	case tabular && !s.f.raw:
		s.nodesTable(words, replies)
	default:
		s.nodesGrouped(words, replies)
	}
	return code
}

// mapKeys returns the keys of res.
func mapKeys(res redline.NodeResults) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range res {
			if !yield(k) {
				return
			}
		}
	}
}

// fieldsOf sets each successful reply's fields and reports whether all of them (at
// least one) have fields: numbers (one field, "value"), maps, INFO-style text.
func fieldsOf(replies []*nodeReply) bool {
	ok := 0
	for _, r := range replies {
		if r.err != nil || r.v.IsError() {
			continue
		}
		r.fields = replyFields(r.v)
		if r.fields == nil {
			return false
		}
		ok++
	}
	return ok > 0
}

// replyFields returns v as named fields, nil when it is not a number, a map of scalars
// or INFO-style text ("name:value" lines, "# Section" headers).
func replyFields(v resp.Value) []kv {
	switch v.Type {
	case resp.TypeInteger, resp.TypeDouble, resp.TypeBigNumber:
		return []kv{{"VALUE", cellText(v)}}
	case resp.TypeMap:
		out := make([]kv, 0, len(v.Elems)/2)
		for i := 0; i+1 < len(v.Elems); i += 2 {
			out = append(out, kv{cellText(v.Elems[i]), cellText(v.Elems[i+1])})
		}
		return out
	case resp.TypeBulkString, resp.TypeVerbatim:
		return infoFields(string(v.Str))
	}
	return nil
}

// infoFields parses INFO-style text into fields; a value made of "a=1,b=2" pairs (INFO
// keyspace's "db0:keys=5,expires=0") becomes fields "db0.a", "db0.b". nil when s is
// not INFO-style text.
func infoFields(s string) []kv {
	out := []kv{}
	section := false
	for line := range strings.SplitSeq(s, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		if strings.HasPrefix(line, "# ") {
			section = true
			continue
		}
		k, v, ok := strings.Cut(line, ":")
		if !ok || k == "" || strings.ContainsAny(k, " \t=") {
			return nil
		}
		if pairs, ok := subFields(v); ok {
			for _, p := range pairs {
				out = append(out, kv{k + "." + p.k, p.v})
			}
			continue
		}
		out = append(out, kv{k, v})
	}
	if len(out) == 0 && !section {
		return nil
	}
	return out
}

// subFields splits "a=1,b=2" into its pairs; ok false when v is not that.
func subFields(v string) ([]kv, bool) {
	if !strings.Contains(v, "=") {
		return nil, false
	}
	var out []kv
	for part := range strings.SplitSeq(v, ",") {
		a, b, ok := strings.Cut(part, "=")
		if !ok || a == "" {
			return nil, false
		}
		out = append(out, kv{a, b})
	}
	return out, true
}

// cellText formats a scalar on one line (an aggregate as CSV).
func cellText(v resp.Value) string {
	switch v.Type {
	case resp.TypeSimpleString, resp.TypeBulkString, resp.TypeVerbatim, resp.TypeBigNumber:
		return string(v.Str)
	case resp.TypeInteger:
		return strconv.FormatInt(v.Int, 10)
	case resp.TypeDouble:
		return strconv.FormatFloat(v.Float, 'g', -1, 64)
	case resp.TypeBoolean:
		return strconv.FormatBool(v.Int != 0)
	case resp.TypeNull:
		return "(nil)"
	case resp.TypeError, resp.TypeBulkError:
		return "(error) " + string(v.Str)
	}
	return csvValue(v)
}

// nodesTable prints one row per node, the fields as columns (in the order first seen),
// an ERROR column when a node failed, and sums of the integer columns.
func (s *session) nodesTable(words []string, replies []*nodeReply) {
	var cols []string
	colIdx := map[string]int{}
	for _, r := range replies {
		for _, f := range r.fields {
			if _, ok := colIdx[f.k]; !ok {
				colIdx[f.k] = len(cols)
				cols = append(cols, f.k)
			}
		}
	}
	failed := false
	for _, r := range replies {
		r.cells = make([]string, len(cols))
		for i := range r.cells {
			r.cells[i] = "-"
		}
		for _, f := range r.fields {
			r.cells[colIdx[f.k]] = f.v
		}
		if r.err != nil || r.v.IsError() {
			failed = true
		}
	}
	header := append([]string{"NODE", "ROLE"}, cols...)
	if failed {
		header = append(header, "ERROR")
	}
	rows := [][]string{header}
	for _, r := range replies {
		row := append([]string{r.addr, r.role}, r.cells...)
		if failed {
			row = append(row, nodeErrText(r))
		}
		rows = append(rows, row)
	}
	// Sums where adding makes sense: numbers (DBSIZE…) and INFO's counters; not a
	// configuration (CONFIG GET) nor CLUSTER INFO (one cluster's view, per node).
	if strings.EqualFold(words[0], "info") || (len(cols) == 1 && cols[0] == "VALUE") {
		rows = append(rows, sumRows(replies, len(cols), failed)...)
	}
	if s.out.csv {
		w := csv.NewWriter(s.stdout)
		w.WriteAll(rows)
		return
	}
	tw := tabwriter.NewWriter(s.stdout, 0, 0, 2, ' ', 0)
	for _, row := range rows {
		fmt.Fprintln(tw, strings.Join(row, "\t"))
	}
	tw.Flush()
}

// sumRows returns the "sum" row of the integer columns (when more than one node
// answered), and "sum of primaries" when replicas are listed too.
func sumRows(replies []*nodeReply, ncols int, failed bool) [][]string {
	answered, primaries, replicas := 0, 0, 0
	for _, r := range replies {
		if r.err == nil && !r.v.IsError() {
			answered++
			if r.role == string(redline.RolePrimary) {
				primaries++
			} else {
				replicas++
			}
		}
	}
	if answered < 2 {
		return nil
	}
	sum := func(label string, keep func(*nodeReply) bool) []string {
		row := []string{label, ""}
		anyInt := false
		for c := 0; c < ncols; c++ {
			var total int64
			isInt := true
			for _, r := range replies {
				if r.err != nil || r.v.IsError() || !keep(r) || r.cells[c] == "-" {
					continue
				}
				n, err := strconv.ParseInt(r.cells[c], 10, 64)
				if err != nil {
					isInt = false
					break
				}
				total += n
			}
			if isInt {
				row = append(row, strconv.FormatInt(total, 10))
				anyInt = true
			} else {
				row = append(row, "")
			}
		}
		if failed {
			row = append(row, "")
		}
		if !anyInt {
			return nil
		}
		return row
	}
	var out [][]string
	if row := sum(fmt.Sprintf("sum (%s)", plural(answered, "node")), func(*nodeReply) bool { return true }); row != nil {
		out = append(out, row)
	}
	if replicas > 0 && primaries > 0 {
		if row := sum(fmt.Sprintf("sum (%s)", plural(primaries, "primary")), func(r *nodeReply) bool { return r.role == string(redline.RolePrimary) }); row != nil {
			out = append(out, row)
		}
	}
	return out
}

// nodeErrText is a node's failure for the ERROR column ("" when it answered).
func nodeErrText(r *nodeReply) string {
	switch {
	case r.err != nil:
		return errLine(r.err)
	case r.v.IsError():
		return string(r.v.Str)
	}
	return ""
}

// nodesGrouped prints each node's reply: on one line "addr (role): reply" when it is
// a scalar, else under a "== addr (role) ==" line.
func (s *session) nodesGrouped(words []string, replies []*nodeReply) {
	prevBlock := false
	for i, r := range replies {
		if s.out.csv {
			if r.err != nil {
				fmt.Fprintf(s.stdout, "%s,%s,ERROR,%s\n", csvQuote(r.addr), csvQuote(r.role), csvQuote(errLine(r.err)))
			} else {
				fmt.Fprintf(s.stdout, "%s,%s,%s\n", csvQuote(r.addr), csvQuote(r.role), csvValue(r.v))
			}
			continue
		}
		var b strings.Builder
		if r.err != nil {
			fmt.Fprintf(&b, "(error) %s\n", errLine(r.err))
		} else {
			s.out.printReply(&b, words, r.v)
		}
		text := b.String()
		if strings.Count(text, "\n") <= 1 {
			if prevBlock {
				fmt.Fprintln(s.stdout)
			}
			fmt.Fprintf(s.stdout, "%s (%s): %s", r.addr, r.role, text)
			prevBlock = false
			continue
		}
		if i > 0 {
			fmt.Fprintln(s.stdout)
		}
		fmt.Fprintf(s.stdout, "== %s (%s) ==\n%s", r.addr, r.role, text)
		prevBlock = true
	}
}

// nodeJSON is one node's part of the JSON output.
type nodeJSON struct {
	Node   string            `json:"node"`
	Role   string            `json:"role"`
	Reply  any               `json:"reply,omitempty"`
	Fields map[string]string `json:"fields,omitempty"`
	Error  string            `json:"error,omitempty"`
}

// nodesJSON prints a JSON array, one object per node: its reply, its fields when the
// reply has them (INFO text parsed), or its error.
func (s *session) nodesJSON(replies []*nodeReply) {
	out := make([]nodeJSON, 0, len(replies))
	for _, r := range replies {
		j := nodeJSON{Node: r.addr, Role: r.role}
		switch {
		case r.err != nil:
			j.Error = errLine(r.err)
		case r.v.IsError():
			j.Error = string(r.v.Str)
		default:
			j.Reply = jsonValue(r.v)
			if r.fields != nil && r.v.Type != resp.TypeInteger {
				j.Fields = map[string]string{}
				for _, f := range r.fields {
					j.Fields[f.k] = f.v
				}
			}
		}
		out = append(out, j)
	}
	printJSON(s.stdout, out)
}

// plural returns "1 node", "2 nodes"; "primary" becomes "primaries".
func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	if strings.HasSuffix(word, "y") {
		return fmt.Sprintf("%d %sies", n, strings.TrimSuffix(word, "y"))
	}
	return fmt.Sprintf("%d %ss", n, word)
}
