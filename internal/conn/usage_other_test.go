//go:build !unix

package conn

import "time"

// cpuNow is unknown here: the benchmarks' cpu-ns/op and ctxsw/op read 0.
func cpuNow() (time.Duration, int64) { return 0, 0 }
