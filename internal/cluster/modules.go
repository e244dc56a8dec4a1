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
// (cached); nil when nobody knows the command. The error is the call's deadline error
// when its deadline passed before (or while) the servers were asked: the call ends.
func (c *Engine) lookup(w *conn.Waiter, args []any) (*command.Info, error) {
	if info := command.Lookup(args); info != nil {
		return info, nil
	}
	name := strings.Clone(strings.ToLower(ArgString(args[0]))) // kept: never alias the caller's
	if v, ok := c.cmds.m.Load(name); ok {
		if v == unknownInfo {
			return nil, nil
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
		return nil, nil // do not cache: ask again next time
	}
	if v.Err != nil {
		return nil, nil
	}
	infos, err := command.Parse(v)
	if err != nil || len(infos) == 0 || infos[0] == nil {
		c.cmds.m.Store(name, unknownInfo)
		return nil, nil
	}
	c.cmds.m.Store(name, infos[0])
	return infos[0], nil
}
