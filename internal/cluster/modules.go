package cluster

import (
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/redline-go/redline/internal/command"
	"github.com/redline-go/redline/internal/conn"
	"github.com/redline-go/redline/internal/rerr"
)

// cmdCache holds what servers told us about commands the generated table lacks
// (module commands): asked once per name with COMMAND INFO, within the first caller's
// deadline.
type cmdCache struct {
	m sync.Map // lower-case name -> *command.Info (unknownInfo when the server does not know it either)
}

// unknownInfo marks a name the server does not know: such commands are sent keyless.
var unknownInfo = &command.Info{}

// lookup returns the command's info from the generated table, else from the servers
// (cached); nil when nobody knows the command. A subcommand the table does not know (a
// newer server's: CLUSTER SLOT-STATS on Valkey 8) is asked of the servers too, under
// its container|subcommand name, so that its tips route it (to every shard); when they
// do not know it either, it goes as its container would. The error is the call's
// deadline error when its deadline passed before (or while) the servers were asked:
// the call ends.
func (c *Engine) lookup(w *conn.Waiter, args []any) (*command.Info, error) {
	info := command.Lookup(args)
	switch {
	case info == nil:
		return c.lookupServer(w, strings.Clone(strings.ToLower(ArgString(args[0]))), nil) // kept: never alias the caller's
	case len(info.Subcommands) > 0 && len(args) >= 2: // the container: its subcommand is unknown here
		if sub := ArgString(args[1]); len(sub) <= maxSubName {
			return c.lookupServer(w, info.Name+"|"+strings.ToLower(sub), info)
		}
	}
	return info, nil
}

// maxSubName bounds the subcommand names asked of the servers (the longest of Redis
// 7.0 has 22 bytes).
const maxSubName = 48

// lookupServer returns the info of the command called name from the cache, else asks
// a primary with COMMAND INFO (once; the answer is cached, "unknown" too); fallback
// when nobody knows it.
func (c *Engine) lookupServer(w *conn.Waiter, name string, fallback *command.Info) (*command.Info, error) {
	if v, ok := c.cmds.m.Load(name); ok {
		if v == unknownInfo {
			return fallback, nil
		}
		return v.(*command.Info), nil
	}
	if w.Done() {
		return nil, w.DeadlineErr(nil)
	}
	n := c.anyPrimary(nil)
	v, err := execOn(n, w, []any{"COMMAND", "INFO", name})
	if err != nil {
		var de *rerr.DeadlineError
		if errors.As(err, &de) {
			if de.Node != nil { // say what the call was waiting for
				ne := *de.Node
				ne.Err = fmt.Errorf("looking up the command (COMMAND INFO %s): %w", name, ne.Err)
				de = &rerr.DeadlineError{Cause: de.Cause, Elapsed: de.Elapsed, Node: &ne}
			}
			return nil, de
		}
		return fallback, nil // do not cache: ask again next time
	}
	if v.Err != nil {
		return fallback, nil
	}
	infos, err := command.Parse(v)
	if err != nil || len(infos) == 0 || infos[0] == nil {
		c.cmds.m.Store(name, unknownInfo)
		return fallback, nil
	}
	c.cmds.m.Store(name, infos[0])
	return infos[0], nil
}
