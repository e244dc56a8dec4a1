package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/redline-go/redline/internal/command"
)

// The interactive prompt's line editor, standard library only: the terminal is put in
// character mode with stty (as probe --watch does), keys are read one by one and the
// line is redrawn. Keys: ←/→, Home/End (Ctrl-A/Ctrl-E), Backspace, Delete, Ctrl-U,
// Ctrl-K, Ctrl-W, ↑/↓ through the history (kept in ~/.redline_history), Tab completes
// a command name or subcommand, Ctrl-D on an empty line quits. Ctrl-C stays a signal.

// historyMax is how many lines the history keeps.
const historyMax = 1000

// lineEditor reads lines from a terminal with editing and history.
type lineEditor struct {
	in      *bufio.Reader
	out     io.Writer
	history []string
	file    string // where the history is kept, "" for nowhere
	restore func()
}

// newLineEditor returns an editor on the terminal tty, nil when the terminal cannot be
// put in character mode (then the caller reads lines plainly).
func newLineEditor(tty *os.File, out io.Writer) *lineEditor {
	restore := cbreak(tty)
	if restore == nil {
		return nil
	}
	e := &lineEditor{in: bufio.NewReader(tty), out: out, restore: restore}
	if home, err := os.UserHomeDir(); err == nil {
		e.file = filepath.Join(home, ".redline_history")
		if b, err := os.ReadFile(e.file); err == nil {
			e.history = strings.Split(strings.TrimRight(string(b), "\n"), "\n")
			e.history = slices.DeleteFunc(e.history, func(s string) bool { return s == "" })
		}
	}
	return e
}

// close restores the terminal.
func (e *lineEditor) close() { e.restore() }

// errEOF is Ctrl-D on an empty line.
var errEOF = errors.New("end of input")

// readLine shows prompt and returns the line typed, added to the history.
func (e *lineEditor) readLine(prompt string) (string, error) {
	var buf []rune
	pos := 0
	hist := len(e.history) // the history entry shown; len: the line being typed
	typed := ""            // the line being typed, while browsing the history
	redraw := func() {
		fmt.Fprintf(e.out, "\r%s%s\x1b[K", prompt, string(buf))
		if back := len(buf) - pos; back > 0 {
			fmt.Fprintf(e.out, "\x1b[%dD", back)
		}
	}
	show := func(s string) {
		buf = []rune(s)
		pos = len(buf)
	}
	redraw()
	for {
		r, _, err := e.in.ReadRune()
		if err != nil {
			return "", err
		}
		switch r {
		case '\r', '\n':
			fmt.Fprint(e.out, "\r\n")
			line := string(buf)
			e.remember(line)
			return line, nil
		case 4: // Ctrl-D
			if len(buf) == 0 {
				fmt.Fprint(e.out, "\r\n")
				return "", errEOF
			}
			if pos < len(buf) {
				buf = slices.Delete(buf, pos, pos+1)
			}
		case 1: // Ctrl-A
			pos = 0
		case 5: // Ctrl-E
			pos = len(buf)
		case 2: // Ctrl-B
			pos = max(pos-1, 0)
		case 6: // Ctrl-F
			pos = min(pos+1, len(buf))
		case 21: // Ctrl-U
			buf, pos = buf[pos:], 0
		case 11: // Ctrl-K
			buf = buf[:pos]
		case 23: // Ctrl-W: the word before the cursor
			start := pos
			for start > 0 && buf[start-1] == ' ' {
				start--
			}
			for start > 0 && buf[start-1] != ' ' {
				start--
			}
			buf, pos = slices.Delete(buf, start, pos), start
		case 127, 8: // Backspace
			if pos > 0 {
				buf, pos = slices.Delete(buf, pos-1, pos), pos-1
			}
		case '\t':
			buf, pos = complete(buf, pos)
		case 27: // an escape sequence: arrows, Home, End, Delete
			switch e.escape() {
			case "[A", "OA": // up
				if hist > 0 {
					if hist == len(e.history) {
						typed = string(buf)
					}
					hist--
					show(e.history[hist])
				}
			case "[B", "OB": // down
				if hist < len(e.history) {
					hist++
					if hist == len(e.history) {
						show(typed)
					} else {
						show(e.history[hist])
					}
				}
			case "[C", "OC":
				pos = min(pos+1, len(buf))
			case "[D", "OD":
				pos = max(pos-1, 0)
			case "[H", "OH", "[1~", "[7~":
				pos = 0
			case "[F", "OF", "[4~", "[8~":
				pos = len(buf)
			case "[3~":
				if pos < len(buf) {
					buf = slices.Delete(buf, pos, pos+1)
				}
			}
		default:
			if r >= ' ' && r != utf8.RuneError {
				buf = slices.Insert(buf, pos, r)
				pos++
			}
		}
		redraw()
	}
}

// escape reads the rest of an escape sequence ("[A", "[3~"…), bounded in length.
func (e *lineEditor) escape() string {
	var b strings.Builder
	for b.Len() < 8 {
		r, _, err := e.in.ReadRune()
		if err != nil {
			break
		}
		b.WriteRune(r)
		if b.Len() >= 2 && (r >= 'A' && r <= 'Z' || r == '~') {
			break
		}
	}
	return b.String()
}

// remember adds line to the history (not an empty line, nor the last one again, nor
// one that holds a password) and appends it to the history file.
func (e *lineEditor) remember(line string) {
	line = strings.TrimSpace(line)
	if line == "" || (len(e.history) > 0 && e.history[len(e.history)-1] == line) || secretLine(line) {
		return
	}
	e.history = append(e.history, line)
	if len(e.history) > historyMax {
		e.history = e.history[len(e.history)-historyMax:]
	}
	if e.file != "" {
		if f, err := os.OpenFile(e.file, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600); err == nil {
			fmt.Fprintln(f, line)
			f.Close()
		}
	}
}

// secretLine reports whether a command line may hold a password (AUTH, HELLO … AUTH,
// ACL SETUSER, CONFIG SET …pass…), which the history does not keep.
func secretLine(line string) bool {
	l := strings.ToLower(line)
	return strings.HasPrefix(l, "auth ") || strings.HasPrefix(l, "hello ") || strings.HasPrefix(l, "acl setuser") ||
		strings.HasPrefix(l, "migrate ") || (strings.HasPrefix(l, "config set") && strings.Contains(l, "pass"))
}

// complete completes the word before the cursor when it is the command name (or a
// container's subcommand) and one name fits, or extends it to what all the names
// that fit share.
func complete(buf []rune, pos int) ([]rune, int) {
	words := strings.Fields(string(buf[:pos]))
	if len(words) == 0 || buf[pos-1] == ' ' || len(words) > 2 {
		return buf, pos
	}
	var names []string
	prefix := strings.ToLower(words[len(words)-1])
	if len(words) == 1 {
		for _, in := range command.All() {
			if strings.HasPrefix(in.Name, prefix) {
				names = append(names, in.Name)
			}
		}
	} else if in := command.LookupName(strings.ToLower(words[0])); in != nil {
		for _, sub := range in.Subcommands {
			if _, name, _ := strings.Cut(sub.Name, "|"); strings.HasPrefix(name, prefix) {
				names = append(names, name)
			}
		}
	}
	if len(names) == 0 {
		return buf, pos
	}
	common := names[0]
	for _, n := range names[1:] {
		for !strings.HasPrefix(n, common) {
			common = common[:len(common)-1]
		}
	}
	if len(names) == 1 {
		common += " "
	}
	upper := words[len(words)-1] != prefix // the user types in upper case
	if upper {
		common = strings.ToUpper(common)
	}
	add := []rune(common[len(prefix):])
	return slices.Insert(buf, pos, add...), pos + len(add)
}
