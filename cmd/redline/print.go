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
	enc.Encode(x)
}
