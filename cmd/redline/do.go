package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/redline-go/redline"
	"github.com/redline-go/redline/resp"
)

// doFlags are the flags of the command mode.
type doFlags struct {
	conn         connFlags
	raw, noRaw   bool
	csv          bool
	repeat       int
	interval     float64
	node         string
	allPrimaries bool
	allNodes     bool
}

// session runs commands on one client and prints their replies.
type session struct {
	c       *redline.Client
	f       *doFlags
	out     output
	stdout  io.Writer
	stderr  io.Writer
	name    string // "redline", for messages
	monitor monitorDialer
}

// runDo runs one command (the arguments left after the flags), or reads commands from
// stdin when there is none: with a prompt on a terminal, one per line otherwise.
func runDo(ctx context.Context, name string, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	var f doFlags
	fs := newFlags(name, topUsage, stdout, stderr)
	f.conn.register(fs.FlagSet)
	fs.BoolVar(&f.raw, "raw", false, "print replies raw, as redis-cli --raw (the default when the output is not a terminal)")
	fs.BoolVar(&f.noRaw, "no-raw", false, "print replies formatted even when the output is not a terminal")
	fs.BoolVar(&f.csv, "csv", false, "print replies as CSV")
	fs.IntVar(&f.repeat, "r", 1, "run the command this many `times` (-1: until Ctrl-C)")
	fs.Float64Var(&f.interval, "i", 0, "`seconds` to wait between repetitions (with -r)")
	fs.StringVar(&f.node, "node", "", "run the command on this `node` (host:port, primary or replica) instead of routing it")
	fs.BoolVar(&f.allPrimaries, "all-primaries", false, "run the command on every primary, output grouped by node")
	fs.BoolVar(&f.allNodes, "all-nodes", false, "run the command on every node (primaries and replicas), output grouped by node")
	if done, code := fs.parse(args); done {
		return code
	}
	if err := f.conn.check(fs.FlagSet); err != nil {
		return fs.usageError("%s", errLine(err))
	}
	if err := f.check(); err != nil {
		return fs.usageError("%s", errLine(err))
	}
	switch a := fs.Arg(0); a {
	case "probe", "bench", "demo", "do":
		return fs.usageError("the subcommand goes first: redline %s [flags]", a)
	}
	opts, err := f.conn.options()
	if err != nil {
		return fs.usageError("%s", errLine(err))
	}
	c, err := redline.NewClient(ctx, opts)
	if err != nil {
		return fail(stderr, name, 1, err)
	}
	defer c.Close()
	s := &session{c: c, f: &f, stdout: stdout, stderr: stderr, name: name,
		monitor: monitorDialer{conn: &f.conn, tls: opts.TLSConfig}}
	s.out = output{json: f.conn.json, csv: f.csv, raw: f.raw || (!f.noRaw && !isTerminal(stdout))}
	if fs.NArg() > 0 {
		return s.repeat(ctx, fs.Args())
	}
	return s.lines(ctx, stdin)
}

// check validates the command mode's own flags.
func (f *doFlags) check() error {
	n := 0
	for _, b := range []bool{f.node != "", f.allPrimaries, f.allNodes} {
		if b {
			n++
		}
	}
	switch {
	case n > 1:
		return errors.New("--node, --all-primaries and --all-nodes exclude each other")
	case f.raw && f.noRaw:
		return errors.New("--raw and --no-raw exclude each other")
	case f.csv && f.conn.json:
		return errors.New("--csv and --json exclude each other")
	case f.repeat == 0 || f.repeat < -1:
		return fmt.Errorf("-r %d: want a positive count, or -1 for until Ctrl-C", f.repeat)
	case f.interval < 0:
		return fmt.Errorf("-i %v: want seconds ≥ 0", f.interval)
	}
	return nil
}

// repeat runs words -r times, -i seconds apart; 1 if any run failed.
func (s *session) repeat(ctx context.Context, words []string) int {
	code := 0
	for i := 0; s.f.repeat < 0 || i < s.f.repeat; i++ {
		if i > 0 {
			t := time.NewTimer(time.Duration(s.f.interval * float64(time.Second)))
			select {
			case <-ctx.Done():
				t.Stop()
				return code
			case <-t.C:
			}
		}
		if ctx.Err() != nil {
			return code
		}
		if s.exec(ctx, words) != 0 {
			code = 1
		}
	}
	return code
}

// lines runs the commands read from in, one a line, with a prompt on a terminal; it
// stops at end of input, "quit"/"exit", or when ctx is done (Ctrl-C at the prompt).
// It returns 1 when a command failed, read from a file or a pipe (a script); at a
// prompt, where each error was seen, 0.
func (s *session) lines(ctx context.Context, in io.Reader) int {
	code := s.readLines(ctx, in)
	if isTerminal(in) {
		return 0
	}
	return code
}

// readLines is lines' loop; 1 if a command failed.
func (s *session) readLines(ctx context.Context, in io.Reader) int {
	interactive := isTerminal(in)
	prompt := fmt.Sprintf("redline %s> ", s.f.conn.seeds()[0])
	var ed *lineEditor // line editing and history, on a terminal
	if f, ok := in.(*os.File); ok && interactive && isTerminal(s.stdout) {
		if ed = newLineEditor(f, s.stdout); ed != nil {
			defer ed.close()
		}
	}
	type line struct {
		text string
		eof  bool
	}
	ch := make(chan line, 1)
	next := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(in)
		sc.Buffer(make([]byte, 64<<10), 16<<20)
		for range next {
			if ed != nil {
				text, err := ed.readLine(prompt)
				ch <- line{text: text, eof: err != nil}
				if err != nil {
					return
				}
				continue
			}
			if !sc.Scan() {
				if err := sc.Err(); err != nil {
					fmt.Fprintf(s.stderr, "%s: reading the commands: %v\n", s.name, err)
				}
				ch <- line{eof: true}
				return
			}
			ch <- line{text: sc.Text()}
		}
	}()
	defer close(next)
	code := 0
	for {
		if interactive && ed == nil {
			fmt.Fprint(s.stdout, prompt)
		}
		next <- struct{}{}
		var l line
		select {
		case <-ctx.Done():
			if interactive {
				fmt.Fprintln(s.stdout)
			}
			return code
		case l = <-ch:
		}
		if l.eof {
			break
		}
		words, err := splitLine(l.text)
		if err != nil {
			fmt.Fprintf(s.stderr, "(error) %v\n", err)
			code = 1
			continue
		}
		if len(words) == 0 {
			continue
		}
		if w := strings.ToLower(words[0]); w == "quit" || w == "exit" {
			break
		}
		if s.exec(ctx, words) != 0 {
			code = 1
		}
	}
	return code
}

// exec runs one command the way its name and the flags say: streamed (SUBSCRIBE,
// MONITOR…), on chosen nodes, or routed by the cluster; 1 if it failed.
func (s *session) exec(ctx context.Context, words []string) int {
	switch strings.ToLower(words[0]) {
	case "subscribe", "psubscribe", "ssubscribe":
		return s.subscribe(ctx, words)
	case "monitor":
		return s.runMonitor(ctx, words)
	}
	switch {
	case s.f.node != "":
		return s.onNodes(words, []string{s.f.node}, redline.NodeResults{s.f.node: s.c.DoOn(ctx, s.f.node, anyArgs(words)...)})
	case s.f.allPrimaries:
		return s.onNodes(words, nil, s.c.DoOnEveryPrimary(ctx, anyArgs(words)...))
	case s.f.allNodes:
		return s.onNodes(words, nil, s.c.DoOnEveryNode(ctx, anyArgs(words)...))
	}
	return s.doOne(ctx, words)
}

// anyArgs returns words as command arguments.
func anyArgs(words []string) []any {
	args := make([]any, len(words))
	for i, w := range words {
		args[i] = w
	}
	return args
}

// doOne runs one routed command and prints its reply; 1 if it failed.
func (s *session) doOne(ctx context.Context, words []string) int {
	v, err := s.c.Do(ctx, anyArgs(words)...).Value()
	var re *redline.RedisError
	if err != nil && !errors.As(err, &re) {
		s.printErr(err)
		return 1
	}
	s.out.printReply(s.stdout, words, v)
	if isTerminal(s.stdout) && perNode(words) {
		fmt.Fprintln(s.stderr, "(one node's answer: --all-nodes, --all-primaries or --node ADDR choose the nodes)")
	}
	if v.Type == resp.TypeError || v.Type == resp.TypeBulkError {
		return 1
	}
	return 0
}

// perNode reports whether words is a command about the node it runs on (INFO, CONFIG
// GET, CLIENT LIST, SLOWLOG…): routed, it runs on any one node, which an operator
// may not expect.
func perNode(words []string) bool {
	cmd := strings.ToLower(words[0])
	sub := ""
	if len(words) > 1 {
		sub = strings.ToLower(words[1])
	}
	switch cmd {
	case "info", "slowlog", "latency", "lastsave", "role":
		return true
	case "config":
		return sub == "get"
	case "client":
		return sub == "list" || sub == "info"
	case "memory":
		return sub == "stats" || sub == "doctor"
	}
	return false
}

// printErr prints a failure (not a server's error reply): a JSON object with --json,
// else "(error) …" on stderr.
func (s *session) printErr(err error) {
	var cs *redline.ConnStateError
	if errors.As(err, &cs) {
		switch cs.Command {
		case "AUTH", "HELLO":
			err = fmt.Errorf("%s is not sent: the CLI authenticates every connection itself, with --user and -a/--pass (or -u)", cs.Command)
		case "MULTI", "EXEC", "DISCARD", "WATCH", "UNWATCH":
			err = fmt.Errorf("%s is not sent: the CLI shares its connections, and has no transactions (a script with EVAL runs atomically)", cs.Command)
		}
	}
	if s.out.json {
		printJSON(s.stdout, map[string]string{"error": errLine(err)})
		return
	}
	fmt.Fprintf(s.stderr, "(error) %s\n", errLine(err))
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

// isTerminal reports whether r (a reader or a writer) is an interactive terminal (a
// character device).
func isTerminal(r any) bool {
	f, ok := r.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
