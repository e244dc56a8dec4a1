package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/redline-go/redline"
	"github.com/redline-go/redline/resp"
)

// runDo runs one command (args), or reads commands from in when args is empty: with a
// prompt on a terminal, one per line otherwise.
func runDo(ctx context.Context, f *connFlags, args []string, in io.Reader, stdout, stderr io.Writer) int {
	opts, err := f.options()
	if err != nil {
		fmt.Fprintf(stderr, "redline: %v\n", err)
		return exitUsage
	}
	c, err := redline.NewClient(ctx, opts)
	if err != nil {
		fmt.Fprintf(stderr, "redline: %v\n", err)
		return 1
	}
	defer c.Close()
	if len(args) > 0 {
		return doOne(ctx, c, f, args, stdout, stderr)
	}
	interactive := isTerminal(in)
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	code := 0
	for {
		if interactive {
			fmt.Fprint(stdout, "redline> ")
		}
		if !sc.Scan() {
			break
		}
		words, err := splitLine(sc.Text())
		if err != nil {
			fmt.Fprintf(stderr, "(error) %v\n", err)
			continue
		}
		if len(words) == 0 {
			continue
		}
		if w := strings.ToLower(words[0]); w == "quit" || w == "exit" {
			break
		}
		if doOne(ctx, c, f, words, stdout, stderr) != 0 {
			code = 1
		}
	}
	return code
}

// doOne runs one command and prints its reply; 1 if it failed.
func doOne(ctx context.Context, c *redline.Client, f *connFlags, words []string, stdout, stderr io.Writer) int {
	args := make([]any, len(words))
	for i, w := range words {
		args[i] = w
	}
	v, err := c.Do(ctx, args...).Value()
	var re *redline.RedisError
	if err != nil && !errors.As(err, &re) {
		if f.json {
			printJSON(stdout, map[string]string{"error": err.Error()})
		} else {
			fmt.Fprintf(stderr, "(error) %v\n", err)
		}
		return 1
	}
	if f.json {
		printJSON(stdout, jsonValue(v))
	} else {
		printValue(stdout, v)
	}
	if v.Type == resp.TypeError || v.Type == resp.TypeBulkError {
		return 1
	}
	return 0
}

// splitLine splits a command line into words: spaces separate, double quotes (with
// \" \\ \n \t escapes) and single quotes (literal) group.
func splitLine(line string) ([]string, error) {
	var words []string
	var cur strings.Builder
	inWord := false
	for i := 0; i < len(line); i++ {
		ch := line[i]
		switch {
		case ch == ' ' || ch == '\t':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		case ch == '"':
			inWord = true
			i++
			for ; i < len(line) && line[i] != '"'; i++ {
				if line[i] == '\\' && i+1 < len(line) {
					i++
					switch line[i] {
					case 'n':
						cur.WriteByte('\n')
					case 't':
						cur.WriteByte('\t')
					default:
						cur.WriteByte(line[i])
					}
					continue
				}
				cur.WriteByte(line[i])
			}
			if i >= len(line) {
				return nil, errors.New("unbalanced quotes")
			}
		case ch == '\'':
			inWord = true
			end := strings.IndexByte(line[i+1:], '\'')
			if end < 0 {
				return nil, errors.New("unbalanced quotes")
			}
			cur.WriteString(line[i+1 : i+1+end])
			i += end + 1
		default:
			inWord = true
			cur.WriteByte(ch)
		}
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words, nil
}

// isTerminal reports whether r is an interactive terminal (a character device).
func isTerminal(r io.Reader) bool {
	f, ok := r.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// newDoFlags returns the flag set of the do subcommand (and of the top level).
func newDoFlags(name string, f *connFlags, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	f.register(fs)
	fs.Usage = func() {
		fmt.Fprintf(stderr, `Usage: redline [flags] COMMAND [ARG...]
       redline do [flags] COMMAND [ARG...]
       redline [flags]              (no command: read commands from standard input)

Runs Redis commands on a cluster with full routing (slots, MOVED/ASK, retries), each
within -timeout. Replies print like redis-cli's, or as JSON with -json.

Flags:
`)
		fs.PrintDefaults()
	}
	return fs
}
