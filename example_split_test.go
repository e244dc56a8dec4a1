package redline_test

import (
	"context"
	"errors"
	"fmt"
	"log"

	"github.com/redline-go/redline"
	"github.com/redline-go/redline/redistest"
)

// MSET, DEL, MGET… of keys in different slots are split: one command per slot, atomic
// per slot only. When a part fails, the others may have been applied, and the
// *SplitError says which keys were. Options.Split keeps such commands whole instead:
// keys in different slots fail with *CrossSlotError and nothing is written.
func ExampleSplitError() {
	ctx := context.Background()
	cluster, err := redistest.Start(ctx, redistest.Config{Masters: 1, NoProxy: true})
	if err != nil {
		log.Fatal(err)
	}
	defer cluster.Close()
	// A user that may use app:* keys only.
	if _, err := cluster.Nodes()[0].Do(ctx, "ACL", "SETUSER", "app", "on", ">app-pw", "~app:*", "+@all"); err != nil {
		log.Fatal(err)
	}
	opts := redline.Options{Addrs: cluster.Addrs(), Username: "app", Password: redline.NewSecret("app-pw")}
	c, err := redline.NewClient(ctx, opts)
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()

	err = c.Do(ctx, "MSET", "app:a", "1", "other:z", "2", "app:b", "3").Err()
	var se *redline.SplitError
	var re *redline.RedisError
	if errors.As(err, &se) && errors.As(err, &re) {
		fmt.Println("applied:", se.AppliedKeys())
		fmt.Println("not applied:", se.FailedKeys(), re.Code)
		fmt.Println("may have executed:", redline.MayHaveExecuted(err))
	}

	opts.Split = redline.SplitReads // MSET, DEL and UNLINK kept whole
	strict, err := redline.NewClient(ctx, opts)
	if err != nil {
		log.Fatal(err)
	}
	defer strict.Close()
	err = strict.Do(ctx, "MSET", "app:c", "1", "app:d", "2").Err()
	var ce *redline.CrossSlotError
	fmt.Println("strict:", errors.As(err, &ce))
	// Output:
	// applied: [app:a app:b]
	// not applied: [other:z] NOPERM
	// may have executed: true
	// strict: true
}
