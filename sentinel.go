package redline

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strings"

	"github.com/redline-go/redline/internal/cluster"
)

// SentinelOptions find a primary (and its replicas) through Redis Sentinel
// (Options.Sentinel). NewClient asks every Sentinel at once for MasterName's primary
// and takes an address a strict majority of them names, once that server answers ROLE
// as a master; short of a majority (hung Sentinels, a split view), it waits for every
// answer or three quarters of its context, then takes the confirmed address named most
// (of equals, one other than the primary in use): a Sentinel with a stale view is never
// trusted alone. Each Sentinel address may be listed once. The Client then follows
// failovers: it asks the Sentinels again when a call's connection to the primary fails
// or the primary answers READONLY (the refused command, in Do, DoMulti or a
// transaction, is retried within its deadline), when a Sentinel publishes
// +switch-master or +promoted-slave (the Client keeps a subscription on every
// Sentinel, each PINGed when silent: a hung Sentinel's is redialed), every second
// while no subscription is up, and every Options.RefreshInterval. The Sentinels name
// a promoted replica up to a second after it was promoted, so the failover's leader's
// own events that name the replica it chose (+selected-slave and the next states) make
// the Client ask that replica its ROLE every 5ms for up to 2s, and move to it once it
// answers master: one Sentinel's event is never followed without the server's word.
// Subscriptions move to the new primary (a gap reported). Between a primary's failure
// and its replacement's promotion, calls fail fast with the cause, as with any node
// known down; a write whose reply was lost is reported (MayHaveExecuted), never
// re-sent.
//
// The server found is served as a standalone server is (see Shape): Options.DB,
// ReadFrom (the replicas the Sentinels list as up and linked), every API. The
// Sentinels' connections use their own Username, Password and TLSConfig, not the data
// nodes'.
type SentinelOptions struct {
	// Addrs are the Sentinels, "host:port". Required with MasterName.
	Addrs []string
	// MasterName is the name the Sentinels monitor the primary under. Setting it turns
	// Sentinel on: Options.Addrs and Options.Replicas must then be empty.
	MasterName string
	// Username and Password authenticate the connections to the Sentinels (their
	// requirepass / ACL), separately from the data nodes'. Empty means none.
	Username string
	Password Secret
	// TLSConfig, when set, makes the connections to the Sentinels use TLS. nil means
	// plain TCP, whatever Options.TLSConfig says.
	TLSConfig *tls.Config
}

// enabled reports whether Sentinel is configured.
func (s SentinelOptions) enabled() bool { return s.MasterName != "" || len(s.Addrs) > 0 }

// check validates the Sentinel options against the rest.
func (s SentinelOptions) check(o Options) error {
	if !s.enabled() {
		return nil
	}
	switch {
	case s.MasterName == "":
		return errors.New("redline: Options.Sentinel.MasterName is required with Sentinel addresses")
	case len(s.Addrs) == 0:
		return errors.New("redline: Options.Sentinel.Addrs: at least one Sentinel address is required")
	case len(o.Addrs) > 0:
		return errors.New("redline: Options.Addrs and Options.Sentinel both set: with Sentinel, the Sentinels name the server")
	case len(o.Replicas) > 0:
		return errors.New("redline: Options.Replicas and Options.Sentinel both set: with Sentinel, the Sentinels name the replicas")
	case o.Shape != ShapeAuto:
		return fmt.Errorf("redline: Options.Shape is %v, and Options.Sentinel is set: leave Shape auto", o.Shape)
	}
	seen := map[string]bool{}
	for _, a := range s.Addrs {
		host, port, err := net.SplitHostPort(a)
		if err != nil || port == "" {
			return fmt.Errorf("redline: Options.Sentinel.Addrs: %q is not host:port", a)
		}
		// Each Sentinel has one vote: listed twice, a stale one could outvote the others.
		k := net.JoinHostPort(strings.ToLower(host), port)
		if seen[k] {
			return fmt.Errorf("redline: Options.Sentinel.Addrs: %s is listed twice (each Sentinel has one vote)", a)
		}
		seen[k] = true
	}
	return nil
}

// engineConfig returns the engine's Sentinel configuration (nil when off); o has its
// defaults applied.
func (s SentinelOptions) engineConfig(o Options) *cluster.SentinelConfig {
	if !s.enabled() {
		return nil
	}
	return &cluster.SentinelConfig{
		Addrs:      append([]string(nil), s.Addrs...),
		MasterName: s.MasterName,
		Conn: cluster.ConnOptions{
			TLS:          s.TLSConfig,
			Protocol:     3, // pushes for +switch-master; RESP2 when the Sentinel has no HELLO
			Username:     s.Username,
			Password:     s.Password,
			ClientName:   o.ClientName,
			ReplyTimeout: o.ReplyTimeout,
			Limits:       o.replyLimits(),
		},
	}
}
