package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redline-go/redline/redistest"
)

// The scale scenarios run each fake cluster (redistest.FakeCluster) in a child process
// of this program, so that the clients' heap, goroutines and open files are measured
// alone. The parent drives the child over its stdin and stdout, one line each way:
//
//	move SLOT TO   → {}
//	down MS        → {"until": unix-nanos}
//	owner SLOT     → {"owner": N}
//	counts         → redistest.FakeCounts
//
// and closes its stdin to stop it.

// fakeChildFlag is the first argument that makes this program a fake cluster.
const fakeChildFlag = "-fake-cluster-child"

// fakeChildMain serves a fake cluster of args[0] masters until stdin closes.
func fakeChildMain(args []string) int {
	if len(args) != 1 {
		fmt.Fprintln(os.Stderr, "usage: report -fake-cluster-child MASTERS")
		return 2
	}
	masters, err := strconv.Atoi(args[0])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	f, err := redistest.StartFake(redistest.FakeConfig{Masters: masters})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer f.Close()
	out := json.NewEncoder(os.Stdout)
	out.Encode(map[string]any{"addrs": f.Addrs()})
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		fields := strings.Fields(in.Text())
		num := func(i int) int {
			if i >= len(fields) {
				return -1
			}
			n, _ := strconv.Atoi(fields[i])
			return n
		}
		if len(fields) == 0 {
			continue
		}
		switch fields[0] {
		case "move":
			if err := f.MoveSlot(num(1), num(2)); err != nil {
				out.Encode(map[string]string{"error": err.Error()})
				continue
			}
			out.Encode(struct{}{})
		case "down":
			until := f.SetClusterDown(time.Duration(num(1)) * time.Millisecond)
			out.Encode(map[string]int64{"until": until.UnixNano()})
		case "owner":
			out.Encode(map[string]int{"owner": f.SlotOwner(num(1))})
		case "counts":
			out.Encode(f.Counts())
		default:
			out.Encode(map[string]string{"error": "unknown command " + fields[0]})
		}
	}
	return 0
}

// fakeProc is a fake cluster in a child process.
type fakeProc struct {
	masters int
	addrs   []string
	cmd     *exec.Cmd
	stdin   io.WriteCloser
	mu      sync.Mutex
	out     *json.Decoder
}

// startFakeProc starts a fake cluster of masters masters in a child process.
func startFakeProc(masters int) (*fakeProc, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(exe, fakeChildFlag, strconv.Itoa(masters))
	cmd.Stderr = os.Stderr
	setChildDeathSignal(cmd)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &fakeProc{masters: masters, cmd: cmd, stdin: stdin, out: json.NewDecoder(stdout)}
	var hello struct{ Addrs []string }
	if err := p.out.Decode(&hello); err != nil || len(hello.Addrs) != masters {
		p.Close()
		return nil, fmt.Errorf("fake cluster of %d masters did not start: %v", masters, err)
	}
	p.addrs = hello.Addrs
	return p, nil
}

// call sends one command line and decodes the answer into v.
func (p *fakeProc) call(line string, v any) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, err := io.WriteString(p.stdin, line+"\n"); err != nil {
		return err
	}
	var raw json.RawMessage
	if err := p.out.Decode(&raw); err != nil {
		return err
	}
	var e struct{ Error string }
	if json.Unmarshal(raw, &e) == nil && e.Error != "" {
		return errors.New(e.Error)
	}
	if v == nil {
		return nil
	}
	return json.Unmarshal(raw, v)
}

func (p *fakeProc) counts() redistest.FakeCounts {
	var c redistest.FakeCounts
	if err := p.call("counts", &c); err != nil {
		panic(fmt.Sprintf("fake cluster: %v", err)) // the child died: nothing measured can be trusted
	}
	return c
}

func (p *fakeProc) move(slot, to int) error { return p.call(fmt.Sprintf("move %d %d", slot, to), nil) }

func (p *fakeProc) owner(slot int) int {
	var o struct{ Owner int }
	if err := p.call(fmt.Sprintf("owner %d", slot), &o); err != nil {
		return -1
	}
	return o.Owner
}

// down makes the cluster answer CLUSTERDOWN for d; it returns when the outage ends.
func (p *fakeProc) down(d time.Duration) (time.Time, error) {
	var u struct{ Until int64 }
	if err := p.call(fmt.Sprintf("down %d", d.Milliseconds()), &u); err != nil {
		return time.Time{}, err
	}
	return time.Unix(0, u.Until), nil
}

// Close stops the child (closing its stdin) and waits for it, killing it after 5s.
func (p *fakeProc) Close() {
	p.stdin.Close()
	done := make(chan struct{})
	go func() { p.cmd.Wait(); close(done) }()
	t := time.NewTimer(5 * time.Second)
	defer t.Stop()
	select {
	case <-done:
	case <-t.C:
		p.cmd.Process.Kill()
		<-done
	}
}
