package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/redline-go/redline/resp"
)

// printValue prints a reply the way redis-cli does: quoted strings, "(integer) n",
// "(nil)", numbered arrays, maps as "key => value", nested with indentation.
func printValue(w io.Writer, v resp.Value) {
	writeValue(w, v, "")
}

func writeValue(w io.Writer, v resp.Value, indent string) {
	switch v.Type {
	case resp.TypeSimpleString:
		fmt.Fprintln(w, string(v.Str))
	case resp.TypeBulkString, resp.TypeVerbatim:
		fmt.Fprintln(w, strconv.Quote(string(v.Str)))
	case resp.TypeBigNumber:
		fmt.Fprintf(w, "(big number) %s\n", v.Str)
	case resp.TypeInteger:
		fmt.Fprintf(w, "(integer) %d\n", v.Int)
	case resp.TypeDouble:
		fmt.Fprintf(w, "(double) %s\n", strconv.FormatFloat(v.Float, 'g', -1, 64))
	case resp.TypeBoolean:
		fmt.Fprintf(w, "(%t)\n", v.Int != 0)
	case resp.TypeNull:
		fmt.Fprintln(w, "(nil)")
	case resp.TypeError, resp.TypeBulkError:
		fmt.Fprintf(w, "(error) %s\n", v.Str)
	case resp.TypeArray, resp.TypeSet, resp.TypePush:
		if len(v.Elems) == 0 {
			fmt.Fprintln(w, "(empty array)")
			return
		}
		width := len(strconv.Itoa(len(v.Elems)))
		for i, e := range v.Elems {
			if i > 0 {
				fmt.Fprint(w, indent)
			}
			prefix := fmt.Sprintf("%*d) ", width, i+1)
			fmt.Fprint(w, prefix)
			writeValue(w, e, indent+strings.Repeat(" ", len(prefix)))
		}
	case resp.TypeMap:
		if len(v.Elems) == 0 {
			fmt.Fprintln(w, "(empty map)")
			return
		}
		width := len(strconv.Itoa(len(v.Elems) / 2))
		for i := 0; i+1 < len(v.Elems); i += 2 {
			if i > 0 {
				fmt.Fprint(w, indent)
			}
			prefix := fmt.Sprintf("%*d# ", width, i/2+1)
			fmt.Fprintf(w, "%s%s => ", prefix, inline(v.Elems[i]))
			writeValue(w, v.Elems[i+1], indent+strings.Repeat(" ", len(prefix)+2))
		}
	default:
		fmt.Fprintln(w, v.String())
	}
}

// inline formats a map key on one line.
func inline(v resp.Value) string {
	switch v.Type {
	case resp.TypeSimpleString, resp.TypeBulkString, resp.TypeVerbatim:
		return strconv.Quote(string(v.Str))
	case resp.TypeInteger:
		return strconv.FormatInt(v.Int, 10)
	}
	return v.String()
}

// jsonValue turns a reply into something encoding/json prints naturally: strings,
// numbers, booleans, null, arrays, objects (maps with string keys), {"error": …}.
func jsonValue(v resp.Value) any {
	switch v.Type {
	case resp.TypeSimpleString, resp.TypeBulkString, resp.TypeVerbatim, resp.TypeBigNumber:
		return string(v.Str)
	case resp.TypeInteger:
		return v.Int
	case resp.TypeDouble:
		return v.Float
	case resp.TypeBoolean:
		return v.Int != 0
	case resp.TypeNull:
		return nil
	case resp.TypeError, resp.TypeBulkError:
		return map[string]string{"error": string(v.Str)}
	case resp.TypeArray, resp.TypeSet, resp.TypePush:
		out := make([]any, len(v.Elems))
		for i, e := range v.Elems {
			out[i] = jsonValue(e)
		}
		return out
	case resp.TypeMap:
		obj := map[string]any{}
		for i := 0; i+1 < len(v.Elems); i += 2 {
			obj[inlineKey(v.Elems[i])] = jsonValue(v.Elems[i+1])
		}
		return obj
	}
	return v.String()
}

func inlineKey(v resp.Value) string {
	if v.Type == resp.TypeInteger {
		return strconv.FormatInt(v.Int, 10)
	}
	return string(v.Str)
}

// printJSON writes x as indented JSON.
func printJSON(w io.Writer, x any) {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	enc.Encode(x)
}

// output is how replies print: raw (redis-cli --raw: values as they are, one a line),
// CSV, JSON, or formatted like redis-cli on a terminal (the default there).
type output struct {
	raw, csv, json bool
}

// printReply prints the reply of the command words in mode o. Formatted, a reply
// that is text meant for people (INFO, CLUSTER NODES, CLIENT LIST…, and any verbatim
// string) prints as its lines, as redis-cli does, not as one quoted string.
func (o output) printReply(w io.Writer, words []string, v resp.Value) {
	switch {
	case o.json:
		printJSON(w, jsonValue(v))
	case o.csv:
		fmt.Fprintln(w, csvValue(v))
	case o.raw:
		writeRaw(w, v)
	case isText(words, v):
		writeText(w, string(v.Str))
	default:
		printValue(w, v)
	}
}

// isText reports whether a reply prints as text when formatted: a verbatim string, or
// the bulk reply of one of the commands redis-cli prints raw.
func isText(words []string, v resp.Value) bool {
	if v.Type == resp.TypeVerbatim {
		return true
	}
	if v.Type != resp.TypeBulkString || len(words) == 0 {
		return false
	}
	cmd := strings.ToLower(words[0])
	sub := ""
	if len(words) > 1 {
		sub = strings.ToLower(words[1])
	}
	switch cmd {
	case "info", "lolwut":
		return true
	case "cluster":
		return sub == "nodes" || sub == "info"
	case "client":
		return sub == "list" || sub == "info"
	case "latency":
		return sub == "doctor" || sub == "graph"
	case "memory":
		return sub == "doctor" || sub == "malloc-stats"
	}
	return false
}

// writeText prints s as it is, ending with one newline (INFO's \r\n become \n).
func writeText(w io.Writer, s string) {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	if !strings.HasSuffix(s, "\n") {
		s += "\n"
	}
	io.WriteString(w, s)
}

// writeRaw prints v as redis-cli --raw does: strings and numbers as they are, nil as
// an empty line, the elements of an aggregate one a line, a server error as
// "(error) message".
func writeRaw(w io.Writer, v resp.Value) {
	switch v.Type {
	case resp.TypeSimpleString, resp.TypeBulkString, resp.TypeVerbatim, resp.TypeBigNumber:
		writeText(w, string(v.Str))
	case resp.TypeInteger:
		fmt.Fprintln(w, v.Int)
	case resp.TypeDouble:
		fmt.Fprintln(w, strconv.FormatFloat(v.Float, 'g', -1, 64))
	case resp.TypeBoolean:
		fmt.Fprintln(w, v.Int != 0)
	case resp.TypeNull:
		fmt.Fprintln(w)
	case resp.TypeError, resp.TypeBulkError:
		fmt.Fprintf(w, "(error) %s\n", v.Str)
	case resp.TypeArray, resp.TypeSet, resp.TypePush, resp.TypeMap:
		for _, e := range v.Elems {
			writeRaw(w, e)
		}
	default:
		fmt.Fprintln(w, v.String())
	}
}

// csvValue formats v as one CSV line, as redis-cli --csv does: strings quoted, numbers
// bare, nil as NULL, an aggregate's elements (flattened) separated by commas.
func csvValue(v resp.Value) string {
	switch v.Type {
	case resp.TypeSimpleString, resp.TypeBulkString, resp.TypeVerbatim:
		return csvQuote(string(v.Str))
	case resp.TypeBigNumber:
		return string(v.Str)
	case resp.TypeInteger:
		return strconv.FormatInt(v.Int, 10)
	case resp.TypeDouble:
		return strconv.FormatFloat(v.Float, 'g', -1, 64)
	case resp.TypeBoolean:
		return strconv.FormatBool(v.Int != 0)
	case resp.TypeNull:
		return "NULL"
	case resp.TypeError, resp.TypeBulkError:
		return "ERROR," + csvQuote(string(v.Str))
	case resp.TypeArray, resp.TypeSet, resp.TypePush, resp.TypeMap:
		parts := make([]string, len(v.Elems))
		for i, e := range v.Elems {
			parts[i] = csvValue(e)
		}
		return strings.Join(parts, ",")
	}
	return csvQuote(v.String())
}

// csvQuote quotes s for CSV (RFC 4180: quotes doubled).
func csvQuote(s string) string {
	return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
}
