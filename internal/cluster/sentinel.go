package cluster

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/redline-go/redline/internal/conn"
	"github.com/redline-go/redline/internal/node"
	"github.com/redline-go/redline/internal/topology"
	"github.com/redline-go/redline/resp"
)

// Sentinel as a topology source: the engine is single (shape.go), its table the
// primary some Sentinel names — and its ROLE confirms — with the replicas the Sentinels
// list (for ReadFrom). No Sentinel is trusted alone: every one is asked at once, every
// candidate named is checked (ROLE) at once, and one named by a strict majority and
// confirmed is taken; short of that, every answer (or a bounded wait: discoverLimits)
// is awaited and the confirmed candidate named most taken. The table is asked again
// (sentinelLoop) when a call's connection to the primary fails or it answers READONLY
// (TriggerRefresh: Do, DoMulti, transactions), when a Sentinel publishes
// +switch-master or +promoted-slave (sentinelWatch, whose connection PINGs when
// silent), every sentinelPoll while that subscription is not up, and every
// RefreshInterval.

// SentinelConfig is how the engine finds its server through Sentinels.
type SentinelConfig struct {
	// Addrs are the Sentinels, host:port.
	Addrs []string
	// MasterName is the name the Sentinels monitor the primary under.
	MasterName string
	// Conn is the Sentinels' connection settings (their own auth and TLS; Addr is set
	// per Sentinel).
	Conn conn.Options
	// NewNode builds the node of a Sentinel; nil builds real ones (tests pass fakes).
	NewNode func(addr string) Node
}

// sentinelMinSpacing is the least time between two askings of the Sentinels that
// failing calls trigger: during an outage a client asks them at most four times a
// second. A +switch-master message is served at once.
const sentinelMinSpacing = 250 * time.Millisecond

// sentinelAnswerWait bounds how long a rediscovery waits for Sentinels that have not
// answered when the answers in hand give no candidate a majority (hung Sentinels and a
// split view during a failover): the loop asks again soon anyway.
const sentinelAnswerWait = 500 * time.Millisecond

// sentinelRoleWait bounds a rediscovery's ROLE check of one candidate: a healthy
// server answers in milliseconds; a hung one (a stopped primary the Sentinels still
// name) must not hold the loop — and the +switch-master behind it — for DialTimeout +
// CommandTimeout.
const sentinelRoleWait = 500 * time.Millisecond

// sentinelWatchCheck is how long the +switch-master subscription may stay silent
// before its connection PINGs the Sentinel, and how long that PING may go unanswered
// before the connection is declared dead and the next Sentinel is tried: a hung
// Sentinel (its connection open and silent) is left within about 700ms.
const sentinelWatchCheck = 300 * time.Millisecond

// sentinelPoll is how often the Sentinels are asked while the +switch-master
// subscription is not known to be up (between Sentinels, or none answering): a
// promotion is then seen within about this long instead of RefreshInterval.
const sentinelPoll = time.Second

// newSentinels builds the Sentinels' nodes (none dialed). An address listed twice is
// refused: that Sentinel would vote twice, and a stale one could outvote the others.
func (c *Engine) newSentinels() error {
	sc := c.cfg.Sentinel
	c.switched = make(chan struct{}, 1)
	seen := map[string]bool{}
	for _, a := range sc.Addrs {
		if seen[a] {
			return fmt.Errorf("redline: Sentinel %s is listed twice: each Sentinel has one vote", a)
		}
		seen[a] = true
	}
	for _, a := range sc.Addrs {
		if sc.NewNode != nil {
			c.sentinels = append(c.sentinels, sc.NewNode(a))
			continue
		}
		o := node.Options{Conn: sc.Conn, DialTimeout: c.cfg.DialTimeout, Logger: c.cfg.Logger}
		c.sentinels = append(c.sentinels, realNode{node.New(a, o)})
	}
	return nil
}

// sentinelAnswer is one Sentinel's answer to GET-MASTER-ADDR-BY-NAME.
type sentinelAnswer struct {
	i       int
	addr    string // "" with err, or unknown
	unknown bool   // the Sentinel knows no master by that name
	err     error
}

// askMaster asks Sentinel s for the primary's address.
func (c *Engine) askMaster(ctx context.Context, i int) sentinelAnswer {
	s := c.sentinels[i]
	v, err := DoOn(ctx, s, "SENTINEL", "GET-MASTER-ADDR-BY-NAME", c.cfg.Sentinel.MasterName)
	switch {
	case err != nil:
		return sentinelAnswer{i: i, err: err}
	case v.Err != nil:
		if strings.Contains(strings.ToLower(v.Err.Msg), "unknown command") {
			return sentinelAnswer{i: i, err: fmt.Errorf("%s is not a Sentinel (SENTINEL: %w)", s.Addr(), v.Err)}
		}
		return sentinelAnswer{i: i, err: fmt.Errorf("Sentinel %s: %w", s.Addr(), v.Err)}
	case v.IsNull():
		return sentinelAnswer{i: i, unknown: true, err: fmt.Errorf("Sentinel %s knows no master named %q", s.Addr(), c.cfg.Sentinel.MasterName)}
	case !v.IsList() || len(v.Elems) != 2:
		return sentinelAnswer{i: i, err: fmt.Errorf("Sentinel %s: GET-MASTER-ADDR-BY-NAME answered %s, want [host, port]", s.Addr(), v.Type)}
	}
	host, port := string(v.Elems[0].Str), string(v.Elems[1].Str)
	if v.Elems[1].Type == resp.TypeInteger {
		port = fmt.Sprint(v.Elems[1].Int)
	}
	return sentinelAnswer{i: i, addr: net.JoinHostPort(host, port)}
}

// confirmGrace is how long discovery waits, once a candidate has answered ROLE as a
// master, for a candidate more Sentinels named that has not answered yet: a server
// that has not answered a ROLE this long after another did is not serving (a stopped
// primary the Sentinels have not yet replaced in every view), and waiting it out to
// the deadline would keep writes off the promoted replica.
const confirmGrace = 50 * time.Millisecond

// verdict is the outcome of one candidate's ROLE check.
type verdict struct {
	addr string
	err  error
}

// discoverLimits bounds one discovery within its ctx: answers is how long it waits for
// the Sentinels' answers (0: until ctx ends), role how long one candidate's ROLE check
// may take (0: until ctx ends).
type discoverLimits struct {
	answers, role time.Duration
}

// newClientLimits are NewClient's: the Sentinels' answers are awaited for three
// quarters of ctx at most, so that a share of it is left for the ROLE check and the
// replicas when some Sentinels hang (a NewClient given less than CommandTimeout).
func newClientLimits(ctx context.Context) discoverLimits {
	if dl, ok := ctx.Deadline(); ok {
		return discoverLimits{answers: time.Until(dl) * 3 / 4}
	}
	return discoverLimits{}
}

// discover asks every Sentinel for the primary, verifies it, and returns the table.
// Each address named is checked (ROLE) as soon as it is named, all at once. A
// candidate is taken once a strict majority of the Sentinels has named it and its ROLE
// confirmed it; short of that (a tie, hung Sentinels), discovery waits for every
// answer, or until lim.answers, and then takes the confirmed candidate named most (the
// first named of equals) — without waiting for a better-named one whose check is
// still pending longer than confirmGrace.
func (c *Engine) discover(ctx context.Context, lim discoverLimits) (*topology.Table, error) {
	n := len(c.sentinels)
	actx, cancel := context.WithCancel(ctx)
	answers := make(chan sentinelAnswer, n)
	verdicts := make(chan verdict, n) // a Sentinel names one address: at most n candidates
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() { defer wg.Done(); answers <- c.askMaster(actx, i) }()
	}
	defer func() { cancel(); wg.Wait() }() // every ask and check ends with actx, at once

	majority := n/2 + 1
	votes := map[string][]int{} // address → the Sentinels naming it
	var order []string          // addresses in the order first named
	checked := map[string]int{} // candidate → 0 pending, 1 a master, -1 not
	var errs []error
	got, named, unknown, pending := 0, 0, 0, 0
	timedOut := false // no more answers awaited (ctx or lim.answers ended)
	var answersBy <-chan time.Time
	if lim.answers > 0 {
		t := time.NewTimer(lim.answers)
		defer t.Stop()
		answersBy = t.C
	}
	cur := "" // the primary in use: of equals, another one is taken (see below)
	if t := c.topo.Load(); t != nil {
		if s := t.Slot(0); s != nil {
			cur = s.Primary.Addr
		}
	}
	var grace <-chan time.Time
	for {
		// Of candidates named equally often, one other than the primary in use wins:
		// a Sentinel names another primary only after a failover it accepted, so in a
		// tie the one naming the primary in use is the likelier stale one.
		best := ""
		for _, a := range order {
			if checked[a] == 1 && (best == "" || len(votes[a]) > len(votes[best]) ||
				len(votes[a]) == len(votes[best]) && best == cur && a != cur) {
				best = a
			}
		}
		// Enough answers: the best confirmed candidate has a majority, or no more
		// answers will come.
		if best != "" && (len(votes[best]) >= majority || got == n || timedOut) {
			better := false // a candidate named more often, still being checked
			for _, a := range order {
				if checked[a] == 0 && len(votes[a]) > len(votes[best]) {
					better = true
				}
			}
			if !better {
				return c.sentinelTable(ctx, best, votes[best])
			}
			if grace == nil {
				t := time.NewTimer(confirmGrace)
				defer t.Stop()
				grace = t.C
			}
		}
		if (got == n || timedOut) && pending == 0 {
			break
		}
		var answersCh <-chan sentinelAnswer
		var done <-chan struct{}
		if got < n && !timedOut {
			answersCh = answers
			done = ctx.Done()
		}
		select {
		case a := <-answersCh:
			got++
			switch {
			case a.err == nil:
				named++
				if votes[a.addr] == nil {
					order = append(order, a.addr)
					pending++
					wg.Add(1)
					go func() {
						defer wg.Done()
						verdicts <- verdict{a.addr, c.checkCandidate(actx, a.addr, lim.role)}
					}()
				}
				votes[a.addr] = append(votes[a.addr], a.i)
			case a.unknown:
				unknown++
				errs = append(errs, a.err)
			default:
				errs = append(errs, a.err)
			}
		case v := <-verdicts:
			if checked[v.addr] != 0 {
				continue // given up on at the end of the grace
			}
			pending--
			checked[v.addr] = 1
			if v.err != nil {
				checked[v.addr] = -1
				errs = append(errs, v.err)
			}
		case <-done:
			errs = append(errs, fmt.Errorf("%d of %d Sentinels did not answer in time: %w", n-got, n, ctx.Err()))
			timedOut = true
		case <-answersBy:
			if got < n && !timedOut {
				errs = append(errs, fmt.Errorf("%d of %d Sentinels did not answer within %v", n-got, n, lim.answers.Round(time.Millisecond)))
				timedOut = true
			}
		case <-grace:
			// The best confirmed candidate is taken, however the pending ones end.
			for _, a := range order {
				if checked[a] == 0 {
					checked[a] = -1
					pending--
					errs = append(errs, fmt.Errorf("%s, named primary: ROLE: no answer %v after another candidate's", a, confirmGrace))
				}
			}
		}
	}
	switch {
	case named > 0:
		return nil, fmt.Errorf("redline: no primary of %q the Sentinels named answers as one: %w", c.cfg.Sentinel.MasterName, errors.Join(errs...))
	case unknown > 0 && unknown == got:
		return nil, fmt.Errorf("redline: no Sentinel knows a master named %q: %w", c.cfg.Sentinel.MasterName, errors.Join(errs...))
	}
	return nil, fmt.Errorf("redline: no Sentinel named the primary of %q: %w", c.cfg.Sentinel.MasterName, errors.Join(errs...))
}

// suspectCheck bounds the ROLE check of the server a call last timed out on. Stopped,
// it would hold the asking to its deadline (DialTimeout + CommandTimeout) while a
// Sentinel may already name its replacement; answering at all, it answers a ROLE far
// sooner. A check cut short fails the asking, which keeps the primary in use: the next
// one, triggered by the next failing call, comes after sentinelMinSpacing.
const suspectCheck = 100 * time.Millisecond

// checkCandidate is verifyPrimary under its own limit (0: ctx's alone): a hung
// candidate cannot hold a discovery (and the +switch-master behind it) for long.
func (c *Engine) checkCandidate(ctx context.Context, addr string, limit time.Duration) error {
	if limit > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, limit)
		defer cancel()
	}
	return c.verifyPrimary(ctx, addr)
}

// verifyPrimary asks the node at addr its ROLE: nil when it says master.
func (c *Engine) verifyPrimary(ctx context.Context, addr string) error {
	if suspect, _ := c.timedOut.Load().(string); suspect == addr {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, suspectCheck)
		defer cancel()
	}
	v, err := DoOn(ctx, c.NodeAt(addr), "ROLE")
	switch {
	case err != nil:
		return fmt.Errorf("%s, named primary: ROLE: %w", addr, err)
	case v.Err != nil:
		return fmt.Errorf("%s, named primary: ROLE: %w", addr, v.Err)
	case !v.IsList() || len(v.Elems) == 0:
		return fmt.Errorf("%s, named primary: ROLE answered %s", addr, v.Type)
	case !strings.EqualFold(string(v.Elems[0].Str), "master"):
		return fmt.Errorf("%s, named primary, answers ROLE %q (a Sentinel's view is stale)", addr, v.Elems[0].Str)
	}
	return nil
}

// sentinelTable returns the table of primary, with the replicas the Sentinels that
// named it list (asked only when reads may go to replicas).
func (c *Engine) sentinelTable(ctx context.Context, primary string, voters []int) (*topology.Table, error) {
	var replicas []string
	if c.cfg.ReadFrom != ReadPrimary {
		for _, i := range voters {
			rs, err := c.askReplicas(ctx, i, primary)
			if err == nil {
				replicas = rs
				break
			}
			if c.cfg.Logger != nil {
				c.cfg.Logger.Warn("redline: a Sentinel did not list the replicas", "sentinel", c.sentinels[i].Addr(), "err", err.Error())
			}
		}
	}
	t, err := topology.Single(primary, replicas)
	if err != nil {
		return nil, fmt.Errorf("redline: the primary the Sentinels named: %w", err)
	}
	return t, nil
}

// askReplicas asks Sentinel i for the primary's replicas: those it does not flag down or
// disconnected, whose link to the primary is up.
func (c *Engine) askReplicas(ctx context.Context, i int, primary string) ([]string, error) {
	v, err := DoOn(ctx, c.sentinels[i], "SENTINEL", "REPLICAS", c.cfg.Sentinel.MasterName)
	if err != nil {
		return nil, err
	}
	if v.Err != nil {
		return nil, v.Err
	}
	if !v.IsList() {
		return nil, fmt.Errorf("SENTINEL REPLICAS answered %s", v.Type)
	}
	var out []string
	seen := map[string]bool{primary: true}
	for _, r := range v.Elems {
		f := map[string]string{}
		for k := 0; k+1 < len(r.Elems); k += 2 {
			f[string(r.Elems[k].Str)] = string(r.Elems[k+1].Str)
		}
		flags := f["flags"]
		if f["ip"] == "" || f["port"] == "" || strings.Contains(flags, "s_down") || strings.Contains(flags, "o_down") ||
			strings.Contains(flags, "disconnected") || f["master-link-status"] != "ok" {
			continue
		}
		a := net.JoinHostPort(f["ip"], f["port"])
		if !seen[a] {
			seen[a] = true
			out = append(out, a)
		}
	}
	return out, nil
}

// sentinelLoop asks the Sentinels again on each trigger (spaced by sentinelMinSpacing),
// at once when a Sentinel reports a switch, and every RefreshInterval, and installs what
// changed.
func (c *Engine) sentinelLoop() {
	defer c.wg.Done()
	var tick <-chan time.Time
	if c.cfg.RefreshInterval > 0 {
		t := time.NewTicker(c.cfg.RefreshInterval)
		defer t.Stop()
		tick = t.C
	}
	poll := time.NewTicker(sentinelPoll)
	defer poll.Stop()
	var last time.Time
	for {
		select {
		case <-c.ctx.Done():
			return
		case <-c.refreshCh:
		case <-tick:
		case <-poll.C:
			if c.watching.Load() > 0 || time.Since(last) < sentinelPoll/2 {
				continue // the subscription reports switches, or it was just asked
			}
		case <-c.switched:
			last = time.Time{} // not spaced
		}
		if wait := time.Until(last.Add(sentinelMinSpacing)); wait > 0 {
			t := time.NewTimer(wait)
			select {
			case <-c.ctx.Done():
				t.Stop()
				return
			case <-t.C:
			case <-c.switched:
				t.Stop()
			}
		}
		select { // triggers that arrived meanwhile are served by this asking
		case <-c.refreshCh:
		default:
		}
		select {
		case <-c.switched:
		default:
		}
		last = time.Now()
		c.rediscover()
	}
}

// rediscover asks the Sentinels (under its own timeout) and installs the table.
func (c *Engine) rediscover() {
	c.lastRefresh.Store(time.Now().UnixNano())
	c.refreshes.Add(1)
	limit := c.cfg.DialTimeout + c.cfg.CommandTimeout
	ctx, cancel := context.WithTimeout(c.ctx, limit)
	defer cancel()
	base := c.topo.Load()
	p := c.follow.promoted.Load()
	t, err := c.discover(ctx, discoverLimits{answers: min(sentinelAnswerWait, limit*3/4), role: min(sentinelRoleWait, limit)})
	if err != nil {
		if c.cfg.Logger != nil && c.ctx.Err() == nil {
			c.cfg.Logger.Warn("redline: asking the Sentinels failed; keeping the primary in use", "err", err.Error())
		}
		return
	}
	if c.keepPromoted(ctx, p, t) {
		return // the Sentinels still name the master a promotion this client followed replaced
	}
	c.follow.mu.Lock()
	defer c.follow.mu.Unlock()
	if c.follow.promoted.Load() != p {
		return // a promotion was followed meanwhile: this asking began before it
	}
	c.install(base, t)
}
