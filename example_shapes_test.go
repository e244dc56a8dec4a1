package redline_test

import (
	"context"
	"log"

	"github.com/redline-go/redline"
)

// A standalone server, a cluster and a Sentinel-managed primary are all reached the
// same way: only the Options (here, from URLs) differ.
func ExampleParseURL() {
	ctx := context.Background()
	for _, u := range []string{
		"redis://:secret@127.0.0.1:6379/2?command_timeout=500ms",                           // standalone, database 2
		"rediss://10.0.0.1:7000?addr=10.0.0.2:7000&addr=10.0.0.3:7000",                     // cluster seeds, TLS
		"redis+sentinel://10.0.0.1:26379/mymaster?addr=10.0.0.2:26379&addr=10.0.0.3:26379", // Sentinel
	} {
		o, err := redline.ParseURL(u)
		if err != nil {
			log.Fatal(err)
		}
		c, err := redline.NewClient(ctx, o)
		if err != nil {
			log.Fatal(err)
		}
		defer c.Close()
		_ = c.Set(ctx, "greeting", "hello", nil)
	}
}
