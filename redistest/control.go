package redistest

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// FailoverMode is how Cluster.Failover asks a replica to take over.
type FailoverMode string

const (
	// FailoverDefault is a coordinated failover: the master stops writes, the replica
	// catches up, then takes over. Needs a reachable master.
	FailoverDefault FailoverMode = ""
	// FailoverForce skips the handshake with the master (use when it is down) but still
	// needs a majority of masters to agree.
	FailoverForce FailoverMode = "FORCE"
	// FailoverTakeover skips the master and the vote.
	FailoverTakeover FailoverMode = "TAKEOVER"
)

// Failover makes replica its master's master (CLUSTER FAILOVER) and waits until every
// running node sees replica as the owner of its old master's slots and the cluster is
// healthy again.
func (c *Cluster) Failover(ctx context.Context, replica *Node, mode FailoverMode) error {
	ctx, cancel := bounded(ctx)
	defer cancel()
	t, err := c.topologyFrom(ctx, replica)
	if err != nil {
		return err
	}
	me := t.ByID(replica.id)
	if me == nil || me.Role != "replica" {
		return fmt.Errorf("redistest: %v is not a replica", replica)
	}
	master := t.ByID(me.MasterID)
	if master == nil || len(master.Slots) == 0 {
		return fmt.Errorf("redistest: the master of %v owns no slots", replica)
	}
	slot := master.Slots[0][0]
	if mn := c.NodeByID(master.ID); mn != nil && mode == FailoverDefault && !c.cfg.server.AtLeast(7, 0) {
		// Redis 6 takes a master replication offset of 0 for "not heard yet", so a coordinated
		// failover of a master that never replicated a byte waits forever: wait for its first
		// replication PING (every second on these nodes) first.
		if err := c.waitFor(ctx, fmt.Sprintf("%v to replicate something", mn), func(ctx context.Context) error {
			v, err := mn.Do(ctx, "INFO", "replication")
			if err != nil {
				return err
			}
			if strings.Contains(string(v.Str), "master_repl_offset:0\r\n") {
				return errors.New("master_repl_offset is 0")
			}
			return nil
		}); err != nil {
			return err
		}
	}
	c.cfg.logf("redistest: %v: CLUSTER FAILOVER %s", replica, mode)
	args := []any{"CLUSTER", "FAILOVER"}
	if mode != FailoverDefault {
		args = append(args, string(mode))
	}
	if _, err := replica.Do(ctx, args...); err != nil {
		return err
	}
	return c.waitFor(ctx, fmt.Sprintf("%v to own slot %d", replica, slot), func(ctx context.Context) error {
		if err := c.checkHealthy(ctx); err != nil {
			return err
		}
		t, err := c.Topology(ctx)
		if err != nil {
			return err
		}
		if o := t.Owner(slot); o == nil || o.ID != replica.id {
			return fmt.Errorf("slot %d not yet owned by %v", slot, replica)
		}
		return nil
	})
}

// Migration moves one slot from its owner to another master step by step, as
// redis-cli --cluster reshard does: Begin marks the slot IMPORTING on the target and
// MIGRATING on the source, MoveKeys moves keys in batches (between the steps, clients
// get ASK redirects for moved keys), Finish assigns the slot to the target everywhere.
type Migration struct {
	c      *Cluster
	Slot   int
	Source *Node
	Target *Node
}

// BeginMigration starts moving slot to target (a master). The source is the slot's
// current owner.
func (c *Cluster) BeginMigration(ctx context.Context, slot int, target *Node) (*Migration, error) {
	ctx, cancel := bounded(ctx)
	defer cancel()
	t, err := c.topologyFrom(ctx, target)
	if err != nil {
		return nil, err
	}
	owner := t.Owner(slot)
	if owner == nil || owner.Node == nil {
		return nil, fmt.Errorf("redistest: slot %d has no known owner", slot)
	}
	if owner.ID == target.id {
		return nil, fmt.Errorf("redistest: %v already owns slot %d", target, slot)
	}
	if e := t.ByID(target.id); e == nil || e.Role != "master" {
		return nil, fmt.Errorf("redistest: migration target %v is not a master", target)
	}
	m := &Migration{c: c, Slot: slot, Source: owner.Node, Target: target}
	c.cfg.logf("redistest: migrate slot %d from %v to %v: begin", slot, m.Source, target)
	if _, err := target.Do(ctx, "CLUSTER", "SETSLOT", slot, "IMPORTING", m.Source.id); err != nil {
		return nil, err
	}
	if _, err := m.Source.Do(ctx, "CLUSTER", "SETSLOT", slot, "MIGRATING", target.id); err != nil {
		return nil, err
	}
	return m, nil
}

// MoveKeys moves up to count keys of the slot to the target and returns how many it
// moved (0 when the slot is empty on the source).
func (m *Migration) MoveKeys(ctx context.Context, count int) (int, error) {
	v, err := m.Source.Do(ctx, "CLUSTER", "GETKEYSINSLOT", m.Slot, count)
	if err != nil {
		return 0, err
	}
	if len(v.Elems) == 0 {
		return 0, nil
	}
	host, port, _ := strings.Cut(m.Target.ServerAddr(), ":")
	args := []any{"MIGRATE", host, port, "", 0, 5000}
	if pw := m.c.cfg.Password; pw != "" {
		args = append(args, "AUTH", pw)
	}
	args = append(args, "KEYS")
	for _, k := range v.Elems {
		args = append(args, k.Str)
	}
	if _, err := m.Source.Do(ctx, args...); err != nil {
		return 0, err
	}
	return len(v.Elems), nil
}

// Finish moves any keys left, then assigns the slot to the target on the target, the
// source and every other master, and waits until all running nodes agree.
func (m *Migration) Finish(ctx context.Context) error {
	ctx, cancel := bounded(ctx)
	defer cancel()
	for {
		n, err := m.MoveKeys(ctx, 1000)
		if err != nil {
			return err
		}
		if n == 0 {
			break
		}
	}
	t, err := m.c.topologyFrom(ctx, m.Target)
	if err != nil {
		return err
	}
	order := []*Node{m.Target, m.Source}
	for _, e := range t.Masters() {
		if e.Node != nil && e.Node != m.Target && e.Node != m.Source && e.Node.Running() {
			order = append(order, e.Node)
		}
	}
	for _, n := range order {
		if _, err := n.Do(ctx, "CLUSTER", "SETSLOT", m.Slot, "NODE", m.Target.id); err != nil {
			return err
		}
	}
	m.c.cfg.logf("redistest: migrate slot %d from %v to %v: done", m.Slot, m.Source, m.Target)
	return m.c.waitFor(ctx, "slot "+strconv.Itoa(m.Slot)+" to be owned by "+m.Target.String()+" everywhere", func(ctx context.Context) error {
		if err := m.c.checkHealthy(ctx); err != nil {
			return err
		}
		t, err := m.c.Topology(ctx)
		if err != nil {
			return err
		}
		if o := t.Owner(m.Slot); o == nil || o.ID != m.Target.id {
			return fmt.Errorf("slot %d not yet owned by the target", m.Slot)
		}
		return nil
	})
}

// MigrateSlot moves slot and all its keys to target in one call.
func (c *Cluster) MigrateSlot(ctx context.Context, slot int, target *Node) error {
	ctx, cancel := bounded(ctx)
	defer cancel()
	m, err := c.BeginMigration(ctx, slot, target)
	if err != nil {
		return err
	}
	return m.Finish(ctx)
}
