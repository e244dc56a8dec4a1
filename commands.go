package redline

import (
	"strings"
	"sync"

	"github.com/redline-go/redline/internal/command"
	"github.com/redline-go/redline/internal/conn"
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
// (cached); nil when nobody knows the command.
func (c *Client) lookup(w *conn.Waiter, args []any) *command.Info {
	if info := command.Lookup(args); info != nil {
		return info
	}
	name := strings.Clone(strings.ToLower(argString(args[0]))) // kept: never alias the caller's
	if v, ok := c.cmds.m.Load(name); ok {
		if v == unknownInfo {
			return nil
		}
		return v.(*command.Info)
	}
	n := c.anyPrimary(nil)
	v, err := n.Exec(w, []any{"COMMAND", "INFO", name})
	if err != nil || v.Err != nil {
		return nil // do not cache: ask again next time
	}
	infos, err := command.Parse(v)
	if err != nil || len(infos) == 0 || infos[0] == nil {
		c.cmds.m.Store(name, unknownInfo)
		return nil
	}
	c.cmds.m.Store(name, infos[0])
	return infos[0]
}
