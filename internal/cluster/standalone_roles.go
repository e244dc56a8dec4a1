package cluster

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"
)

// A standalone client's servers are taken as the Options name them, but their roles
// are checked at New: a replica given as the server would refuse every write
// (READONLY), and a "replica" that replicates another server would answer reads from
// another data set. INFO replication tells a server's role and the replication ID it
// follows (master_replid: a replica's is its primary's). A server that refuses INFO (an
// ACL) or does not answer is taken at its word: a replica down at start must not keep
// the client from starting.

// replicaCheckWait bounds the replicas' check: one that has not answered by then is
// taken unchecked.
const replicaCheckWait = 500 * time.Millisecond

// replInfo is what INFO replication says of a server ("" role: not known).
type replInfo struct {
	role, replid string
	linkUp       bool // a replica's master_link_status:up (its replid is then its primary's)
}

// askRepl asks the server at addr INFO replication.
func (c *Engine) askRepl(ctx context.Context, addr string) replInfo {
	v, err := DoOn(ctx, c.NodeAt(addr), "INFO", "replication")
	if err != nil || v.Err != nil {
		return replInfo{}
	}
	var ri replInfo
	for _, line := range strings.Split(string(v.Str), "\n") {
		k, val, ok := strings.Cut(strings.TrimSpace(line), ":")
		switch {
		case !ok:
		case k == "role":
			ri.role = val
		case k == "master_replid":
			ri.replid = val
		case k == "master_link_status":
			ri.linkUp = val == "up"
		}
	}
	return ri
}

// checkRoles verifies that primary is a primary and each of replicas a replica of its
// data set. The replicas are asked at once, for replicaCheckWait (or half of what is
// left of ctx) at most: a hung one costs NewClient that, not all of its time.
func (c *Engine) checkRoles(ctx context.Context, primary string, replicas []string) error {
	p := c.askRepl(ctx, primary)
	if p.role == "slave" {
		return fmt.Errorf("redline: %s is a replica (INFO replication: role:slave), given as the standalone server: give its primary's address (replicas go in Options.Replicas)", primary)
	}
	if p.role != "master" || p.replid == "" || len(replicas) == 0 {
		return nil
	}
	wait := replicaCheckWait
	if dl, ok := ctx.Deadline(); ok {
		wait = min(wait, time.Until(dl)/2)
	}
	rctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	infos := make([]replInfo, len(replicas))
	var wg sync.WaitGroup
	for i, a := range replicas {
		wg.Add(1)
		go func() { defer wg.Done(); infos[i] = c.askRepl(rctx, a) }()
	}
	wg.Wait()
	for i, r := range infos {
		a := replicas[i]
		switch {
		case r.role == "master":
			return fmt.Errorf("redline: Options.Replicas names %s, which is a primary (INFO replication: role:master), not a replica of %s", a, primary)
		case r.role == "slave" && r.linkUp && r.replid != p.replid:
			return fmt.Errorf("redline: Options.Replicas names %s, which replicates another data set than %s's (master_replid %s, not %s)", a, primary, r.replid, p.replid)
		}
	}
	return nil
}
