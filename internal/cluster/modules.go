package cluster

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/redline-go/redline/internal/command"
	"github.com/redline-go/redline/internal/conn"
	"github.com/redline-go/redline/internal/rerr"
)

// cmdCache holds what servers told us about commands the generated table lacks
// (module commands, newer servers' subcommands): asked with COMMAND INFO within the
// caller's deadline, once per name (calls that come together before the first answer
// each ask), and kept — up to maxCached names, so that a stream of made-up names cannot
// grow it without bound (beyond, such names are asked each time).
type cmdCache struct {
	m sync.Map     // lower-case name -> *command.Info (unknownInfo when the server does not know it either)
	n atomic.Int64 // names stored
}

// maxCached bounds the names a cmdCache keeps.
const maxCached = 1024

// store keeps info for name, unless the cache is full.
func (k *cmdCache) store(name string, info *command.Info) {
	if k.n.Load() >= maxCached {
		return
	}
	if _, loaded := k.m.LoadOrStore(name, info); !loaded {
		k.n.Add(1)
	}
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
	case len(info.Subcommands) > 0 && len(args) >= 2 && info.ConnState == command.ConnNone:
		// The container: its subcommand is unknown here. (One of a container that may
		// change the connection's state, CLIENT's, stays refused as its container is,
		// whatever a server says of it.)
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
		// Refused (NOPERM: an ACL without command|info): as unknown, not asked again;
		// another error is asked again next time.
		if v.Err.Code == "NOPERM" {
			c.cmds.store(name, unknownInfo)
		}
		return fallback, nil
	}
	infos, err := command.Parse(v)
	if err != nil || len(infos) == 0 || infos[0] == nil {
		c.cmds.store(name, unknownInfo)
		return fallback, nil
	}
	c.cmds.store(name, infos[0])
	return infos[0], nil
}
