package conn

import (
	"errors"
	"fmt"
	"time"

	"github.com/redline-go/redline/resp"
)

// ExecMultiBlock is ExecMulti for commands the server may hold for up to block
// (BLPOP and friends, after ASKING): the connection's health limit is extended by that
// much. It is for dedicated connections: nothing else is answered while the server
// holds one.
func (c *Conn) ExecMultiBlock(w *Waiter, block time.Duration, cmds [][]any) ([]resp.Value, error) {
	return c.execMulti(w, block, cmds)
}

// ClientID returns the server's id of this connection (for CLIENT UNBLOCK or CLIENT
// KILL from another connection): from the HELLO reply with RESP3; with RESP2, asked
// once with CLIENT ID (a round trip on first use) and remembered. Call it only while
// the connection is not held by a blocking command.
func (c *Conn) ClientID(w *Waiter) (int64, error) {
	if id, ok := helloInt(c.info, "id"); ok {
		return id, nil
	}
	if id := c.clientID.Load(); id != 0 {
		return id, nil
	}
	v, err := c.Exec(w, 0, []any{"CLIENT", "ID"})
	if err != nil {
		return 0, err
	}
	if v.Err != nil {
		return 0, fmt.Errorf("CLIENT ID: %w", v.Err)
	}
	if v.Type != resp.TypeInteger {
		return 0, errors.New("CLIENT ID: not an integer reply")
	}
	c.clientID.Store(v.Int)
	return v.Int, nil
}

// helloInt returns the integer field key of a HELLO reply (a map), if present.
func helloInt(hello resp.Value, key string) (int64, bool) {
	for i := 0; i+1 < len(hello.Elems); i += 2 {
		if string(hello.Elems[i].Str) == key && hello.Elems[i+1].Type == resp.TypeInteger {
			return hello.Elems[i+1].Int, true
		}
	}
	return 0, false
}
