package redline

import (
	"context"
	"errors"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redline-go/redline/hashslot"
	"github.com/redline-go/redline/redistest"
)

// valkeyForSlotStats returns the Valkey server for the CLUSTER SLOT-STATS test. Inside
// the server matrix (scripts/test-matrix.sh sets REDLINE_MATRIX), a column running Redis
// skips it, saying why: the Valkey column runs it. Anywhere else it runs on the Valkey
// 8.0 that scripts/servers.sh fetched (make deps does), and fails, saying how to get
// it, when it is missing: never a silent skip.
func valkeyForSlotStats(t *testing.T) redistest.Server {
	t.Helper()
	if os.Getenv("REDLINE_MATRIX") != "" {
		s, err := redistest.ProbeServer("")
		if err != nil {
			t.Fatal(err)
		}
		if !slotStatsServer(s) {
			t.Skipf("CLUSTER SLOT-STATS needs Valkey 8.0+; this matrix column runs %s (TestClusterSlotStatsOnRedis covers it)", s)
		}
		return s
	}
	s, err := redistest.FindValkey()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// slotStatsServer reports whether s has CLUSTER SLOT-STATS (Valkey 8.0+).
func slotStatsServer(s redistest.Server) bool { return s.Valkey() && s.AtLeast(8, 0) }

// tagForSlot returns a hash tag "{…}" whose slot is slot.
func tagForSlot(t *testing.T, slot int) string {
	t.Helper()
	for i := range 1 << 20 { // ~16k tries expected
		if tag := "{" + strconv.Itoa(i) + "}"; hashslot.Key(tag) == slot {
			return tag
		}
	}
	t.Fatalf("no tag for slot %d", slot)
	return ""
}

// TestClusterSlotStats (issue 21 item 4), on a real Valkey 8.0 cluster of 3 primaries
// with cluster-slot-stats-enabled: with keys in known slots, one on each primary, the
// key counts per slot are right for a range and for the whole cluster, in slot order;
// ORDERBY key-count LIMIT merges the three primaries' top lists (the top 3 are on 3
// different primaries); both protocols decode; a hung primary is named in the error
// within the call's deadline while the others' slots are returned.
func TestClusterSlotStats(t *testing.T) {
	srv := valkeyForSlotStats(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cl, err := redistest.Start(ctx, redistest.Config{Masters: 3, RedisServer: srv.Path,
		ServerArgs: []string{"--cluster-slot-stats-enabled", "yes"}})
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	t.Logf("cluster: %s", srv)

	keys := map[int]int64{100: 5, 101: 1, 6000: 7, 12000: 3} // slot -> keys in it
	c := newTestClient(t, cl, Options{})
	owners := map[string]bool{}
	for _, s := range []int{100, 6000, 12000} {
		owners[c.e.Topology().Slot(s).Primary.Addr] = true
	}
	if len(owners) != 3 {
		t.Fatalf("slots 100, 6000, 12000 are on %d primaries, want 3: %v", len(owners), owners)
	}
	for slot, n := range keys {
		tag := tagForSlot(t, slot)
		for i := range n {
			if err := c.Do(ctx, "SET", tag+":"+strconv.FormatInt(i, 10), "v").Err(); err != nil {
				t.Fatal(err)
			}
		}
	}

	for _, proto := range []int{2, 3} {
		c := newTestClient(t, cl, Options{Protocol: proto})
		start := time.Now()
		all, err := c.ClusterSlotStats(ctx, 0, hashslot.Count-1)
		t.Logf("RESP%d: all %d slots in %v", proto, len(all), time.Since(start))
		if err != nil {
			t.Fatalf("RESP%d: %v", proto, err)
		}
		if len(all) != hashslot.Count {
			t.Fatalf("RESP%d: %d slots, want %d", proto, len(all), hashslot.Count)
		}
		for i, s := range all {
			if s.Slot != i || s.KeyCount != keys[i] {
				t.Fatalf("RESP%d: entry %d is %+v, want slot %d with %d keys", proto, i, s, i, keys[i])
			}
			if keys[i] > 0 && (s.CPUUsec <= 0 || s.NetworkBytesIn <= 0 || s.NetworkBytesOut <= 0) {
				t.Errorf("RESP%d: slot %d was written to: %+v, want its counters set", proto, i, s)
			}
		}

		// A range across the first two shards' boundary.
		part, err := c.ClusterSlotStats(ctx, 5000, 6000)
		if err != nil {
			t.Fatal(err)
		}
		if len(part) != 1001 || part[0].Slot != 5000 || part[1000].Slot != 6000 || part[1000].KeyCount != 7 {
			t.Errorf("RESP%d: slots 5000-6000: %d entries, first %+v, last %+v", proto, len(part), part[0], part[len(part)-1])
		}

		top, err := c.ClusterSlotStatsOrderBy(ctx, SlotStatsKeyCount, &SlotStatsOrder{Limit: 4})
		if err != nil {
			t.Fatal(err)
		}
		if got, want := slotsAndCounts(top), "6000:7 100:5 12000:3 101:1"; got != want {
			t.Errorf("RESP%d: ORDERBY key-count LIMIT 4: %s, want %s", proto, got, want)
		}
		low, err := c.ClusterSlotStatsOrderBy(ctx, SlotStatsKeyCount, &SlotStatsOrder{Limit: 3, Asc: true})
		if err != nil {
			t.Fatal(err)
		}
		if got, want := slotsAndCounts(low), "0:0 1:0 2:0"; got != want {
			t.Errorf("RESP%d: ORDERBY key-count LIMIT 3 ASC: %s, want %s", proto, got, want)
		}
		cpu, err := c.ClusterSlotStatsOrderBy(ctx, SlotStatsCPUUsec, &SlotStatsOrder{Limit: 4})
		if err != nil {
			t.Fatal(err)
		}
		if len(cpu) != 4 || !slices.IsSortedFunc(cpu, func(a, b SlotStats) int { return int(b.CPUUsec - a.CPUUsec) }) || cpu[0].CPUUsec <= 0 {
			t.Errorf("RESP%d: ORDERBY cpu-usec LIMIT 4: %+v", proto, cpu)
		}
	}

	// A hung primary: the others' slots come back, with an error naming it, by the
	// call's deadline.
	hung := cl.NodeByAddr(c.e.Topology().Slot(12000).Primary.Addr)
	if err := hung.SetFault(redistest.Hang); err != nil {
		t.Fatal(err)
	}
	defer hung.SetFault(redistest.Pass)
	const callTO = time.Second // the healthy primaries answer well within it, even under -race on a loaded machine
	hungSlots := c.e.Topology().Slot(12000).Slots()
	for _, call := range []struct {
		name string
		do   func(ctx context.Context) ([]SlotStats, error)
	}{
		{"SLOTSRANGE 0 16383", func(ctx context.Context) ([]SlotStats, error) { return c.ClusterSlotStats(ctx, 0, hashslot.Count-1) }},
		{"ORDERBY key-count", func(ctx context.Context) ([]SlotStats, error) {
			return c.ClusterSlotStatsOrderBy(ctx, SlotStatsKeyCount, nil)
		}},
	} {
		cctx, ccancel := context.WithTimeout(ctx, callTO)
		start := time.Now()
		got, err := call.do(cctx)
		elapsed := time.Since(start)
		ccancel()
		t.Logf("%s with %v hung: %d slots in %v; %v", call.name, hung, len(got), elapsed, err)
		var de *DeadlineError
		if !errors.As(err, &de) || !strings.Contains(err.Error(), hung.Addr()) {
			t.Errorf("%s with %v hung: error %v, want a deadline error naming it", call.name, hung, err)
		}
		if elapsed > callTO+50*time.Millisecond {
			t.Errorf("%s with %v hung: returned after %v, deadline %v", call.name, hung, elapsed, callTO)
		}
		if len(got) != hashslot.Count-hungSlots || !slices.ContainsFunc(got, func(s SlotStats) bool { return s.Slot == 100 && s.KeyCount == 5 }) {
			t.Errorf("%s with %v hung: %d slots (want %d), slot 100 with 5 keys among them: %v", call.name, hung, len(got), hashslot.Count-hungSlots,
				slices.ContainsFunc(got, func(s SlotStats) bool { return s.Slot == 100 && s.KeyCount == 5 }))
		}
	}
}

// slotsAndCounts renders stats as "slot:keys …".
func slotsAndCounts(stats []SlotStats) string {
	parts := make([]string, len(stats))
	for i, s := range stats {
		parts[i] = strconv.Itoa(s.Slot) + ":" + strconv.FormatInt(s.KeyCount, 10)
	}
	return strings.Join(parts, " ")
}

// TestClusterSlotStatsOnRedis: Redis has no CLUSTER SLOT-STATS; the error is the
// server's "unknown subcommand" (once, not once per primary), a *RedisError, and the
// command hooks see each method as one call with that error.
func TestClusterSlotStatsOnRedis(t *testing.T) {
	cl := plain(t)
	if s := cl.Server(); slotStatsServer(s) {
		t.Skipf("the cluster runs %s, which has CLUSTER SLOT-STATS (TestClusterSlotStats covers it)", s)
	}
	var seen []CommandEnd // the hook sees each method as one call
	c := newTestClient(t, cl, Options{Hooks: Hooks{AfterCommand: func(_ context.Context, e CommandEnd) { seen = append(seen, e) }}})
	for _, call := range []func() ([]SlotStats, error){
		func() ([]SlotStats, error) { return c.ClusterSlotStats(t.Context(), 0, 100) },
		func() ([]SlotStats, error) { return c.ClusterSlotStatsOrderBy(t.Context(), SlotStatsKeyCount, nil) },
	} {
		got, err := call()
		t.Logf("%s: %v", cl.Server(), err)
		var re *RedisError
		if !errors.As(err, &re) || strings.Count(strings.ToLower(err.Error()), "unknown subcommand") != 1 || len(got) != 0 {
			t.Errorf("got %v, %v; want the server's unknown subcommand error", got, err)
		}
	}
	if len(seen) != 2 || seen[0].Name != "cluster|slot-stats" || seen[0].Err == nil || seen[1].Err == nil {
		t.Errorf("hooks saw %+v, want two cluster|slot-stats calls with their errors", seen)
	}
}
