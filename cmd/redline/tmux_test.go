package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// tmuxHint is the failure message when tmux is missing.
const tmuxHint = "tmux not found on PATH: run `make deps` (scripts/deps.sh installs it), or apt-get install -y tmux"

var built struct {
	once sync.Once
	bin  string
	err  error
	dir  string
}

// buildCLI builds the redline binary once per test binary and returns its path.
func buildCLI(t *testing.T) string {
	t.Helper()
	built.once.Do(func() {
		built.dir, built.err = os.MkdirTemp("", "redline-cli-test-")
		if built.err != nil {
			return
		}
		built.bin = filepath.Join(built.dir, "redline")
		if out, err := exec.Command("go", "build", "-o", built.bin, ".").CombinedOutput(); err != nil {
			built.err = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if built.err != nil {
		t.Fatal(built.err)
	}
	return built.bin
}

// terminal is a tmux server of the test's own (its own socket), with one session per
// program run in it, sized 160x50.
type terminal struct {
	t    *testing.T
	sock string
}

// newTerminal starts a tmux server for t, stopped when t ends. It fails t with an
// install hint when tmux is missing.
func newTerminal(t *testing.T) *terminal {
	t.Helper()
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Fatal(tmuxHint)
	}
	term := &terminal{t: t, sock: fmt.Sprintf("redline-test-%d-%s", os.Getpid(), t.Name())}
	t.Cleanup(func() { term.tmux("kill-server") })
	// A session that outlives the others, so that the server does not exit (and race
	// the next new-session) when a program quits.
	term.start("keep", "sleep 120")
	return term
}

func (term *terminal) tmux(args ...string) (string, error) {
	out, err := exec.Command("tmux", append([]string{"-L", term.sock}, args...)...).CombinedOutput()
	return string(out), err
}

// start runs the shell command cmd in a new session called name.
func (term *terminal) start(name, cmd string) {
	term.t.Helper()
	if out, err := term.tmux("new-session", "-d", "-s", name, "-x", "160", "-y", "50", cmd); err != nil {
		term.t.Fatalf("tmux new-session: %v %s", err, out)
	}
}

// screen returns what session name shows.
func (term *terminal) screen(name string) string {
	s, _ := term.tmux("capture-pane", "-p", "-t", name)
	return s
}

// keys types keys (tmux send-keys names: Enter, Up, C-c, …) into session name.
func (term *terminal) keys(name string, keys ...string) {
	term.tmux(append([]string{"send-keys", "-t", name}, keys...)...)
}

// waitScreen waits until cond holds, failing t with session name's screen if it does
// not within the time given.
func (term *terminal) waitScreen(name string, within time.Duration, what string, act func(), cond func() bool) {
	term.t.Helper()
	deadline := time.Now().Add(within)
	for {
		if act != nil {
			act()
		}
		if cond() {
			return
		}
		if time.Now().After(deadline) {
			term.t.Fatalf("no %s within %v; the screen:\n%s", what, within, term.screen(name))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitExit waits until session name's program has exited.
func (term *terminal) waitExit(name string, within time.Duration) {
	term.t.Helper()
	waitFor(term.t, within, name+" exit", nil, func() bool {
		_, err := term.tmux("has-session", "-t", name)
		return err != nil
	})
}

// wrapped returns cmd run by a shell that, once cmd quits, writes its exit status and
// the terminal's modes to the file it returns as well.
func (term *terminal) wrapped(cmd string) (string, string) {
	after := filepath.Join(term.t.TempDir(), "after")
	return fmt.Sprintf("%s; echo exit=$? > %s; stty -a >> %s", cmd, after, after), after
}

// checkRestored checks the file of wrapped: exit 0, the terminal in line mode with
// echo again.
func checkRestored(t *testing.T, after, what string) {
	t.Helper()
	b, _ := os.ReadFile(after)
	if s := string(b); !strings.HasPrefix(s, "exit=0\n") || strings.Contains(s, "-icanon") || strings.Contains(s, "-echo ") {
		t.Errorf("after %s: %s", what, s)
	}
}

// TestInteractivePrompt types into the prompt in a real terminal: a command, ↑ to run
// it again from the history, Tab to complete a command name, an edit in the middle of
// a line, a SUBSCRIBE ended by Ctrl-C (the prompt comes back), and Ctrl-D to quit with
// the terminal restored and the history kept (without the AUTH line).
func TestInteractivePrompt(t *testing.T) {
	term := newTerminal(t)
	bin := buildCLI(t)
	plain, _, _ := testClusters(t)
	home := t.TempDir()
	cmd, after := term.wrapped(fmt.Sprintf("HOME=%s %s -c %s", home, bin, plain.Node(0).Addr()))
	term.start("i", cmd)
	prompt := "redline " + plain.Node(0).Addr() + "> "
	// lastLines returns the screen's non-empty lines, the last n of them.
	lastLines := func(n int) []string {
		var out []string
		for _, l := range strings.Split(term.screen("i"), "\n") {
			if l = strings.TrimRight(l, " "); l != "" { // capture-pane drops trailing spaces
				out = append(out, l)
			}
		}
		return out[max(len(out)-n, 0):]
	}
	// typeAndWait types keys and waits for the screen to end with want (the lines).
	typeAndWait := func(want []string, keys ...string) {
		t.Helper()
		for i := range want {
			want[i] = strings.TrimRight(want[i], " ")
		}
		term.keys("i", keys...)
		term.waitScreen("i", 5*time.Second, fmt.Sprintf("%q after %q", want, keys), nil, func() bool {
			return slices.Equal(lastLines(len(want)), want)
		})
	}
	term.waitScreen("i", 5*time.Second, "prompt", nil, func() bool {
		if _, err := term.tmux("has-session", "-t", "i"); err != nil {
			b, _ := os.ReadFile(after)
			t.Fatalf("the prompt exited: %s", b)
		}
		return strings.Contains(term.screen("i"), strings.TrimRight(prompt, " "))
	})
	typeAndWait([]string{prompt + "SET cli:prompt 'a b'", "OK", prompt}, "SET cli:prompt 'a b'", "Enter")
	typeAndWait([]string{prompt + "GET cli:prompt", `"a b"`, prompt}, "GET cli:prompt", "Enter")
	typeAndWait([]string{prompt + "GET cli:prompt", `"a b"`, prompt + "GET cli:prompt", `"a b"`, prompt}, "Up", "Enter")
	// "strle" Tab completes "strlen "; Backspace, then the key glued on, then a space put
	// back after the sixth character.
	typeAndWait([]string{prompt + "strlen cli:prompt", "(integer) 3", prompt},
		"strle", "Tab", "BSpace", "cli:prompt", "Home", "C-f", "C-f", "C-f", "C-f", "C-f", "C-f", "Space", "End", "Enter")
	typeAndWait([]string{prompt + "AUTH nobody secret",
		"(error) AUTH is not sent: the CLI authenticates every connection itself, with --user and -a/--pass (or -u)", prompt},
		"AUTH nobody secret", "Enter")
	typeAndWait([]string{prompt + "SUBSCRIBE cli:prompt:ch", "Reading messages from 1 channel (press Ctrl-C to stop)..."},
		"SUBSCRIBE cli:prompt:ch", "Enter")
	term.waitScreen("i", 5*time.Second, "message in the prompt", func() {
		plain.Node(0).Do(context.Background(), "PUBLISH", "cli:prompt:ch", "to the prompt")
	}, func() bool { return strings.Contains(term.screen("i"), `"to the prompt"`) })
	term.keys("i", "C-c")
	term.waitScreen("i", 5*time.Second, "prompt after Ctrl-C", nil, func() bool {
		l := lastLines(1)
		return len(l) == 1 && l[0] == strings.TrimRight(prompt, " ")
	})
	term.keys("i", "C-d")
	term.waitExit("i", 5*time.Second)
	checkRestored(t, after, "Ctrl-D")
	b, _ := os.ReadFile(filepath.Join(home, ".redline_history"))
	if want := "SET cli:prompt 'a b'\nGET cli:prompt\nstrlen cli:prompt\nSUBSCRIBE cli:prompt:ch\n"; string(b) != want {
		t.Errorf("history file %q, want %q", b, want)
	}
}
