package redistest

import (
	"context"
	"time"
)

// DefaultWait bounds the waits of Start, WaitHealthy, Failover, BeginMigration,
// Migration.Finish, MigrateSlot, Node.Restart and Topology when their context has no
// deadline (t.Context(), context.Background()), so that no wait on a cluster is
// unbounded. A context with a deadline is used as it is.
const DefaultWait = 60 * time.Second

// bounded returns ctx, given DefaultWait as its deadline when it has none.
func bounded(ctx context.Context) (context.Context, context.CancelFunc) {
	if _, ok := ctx.Deadline(); ok {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, DefaultWait)
}
