package redline

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/redline-go/redline/internal/cache"
	"github.com/redline-go/redline/internal/cluster"
)

// CacheOptions turn on client-side caching (Options.Cache): replies to read-only
// commands kept in the client's memory, served without a round trip
// (Client.DoCache, Client.Cached), and dropped when the server says their keys
// changed (RESP3 CLIENT TRACKING on each node's shared connection).
//
// What is dropped, and when: an entry whose key another client (or this one) writes,
// expires or evicts, as soon as the server's invalidation arrives; every entry read
// from a node whose connection closed (its invalidations may have been lost), that
// stopped answering (checked every 0.5 s while it has entries: dropped within about
// 1.25 s) or that was flushed (FLUSHALL, FLUSHDB); every entry of a slot whose primary
// changed (MOVED, resharding, failover; the topology is refreshed every 5 s while the
// cache holds entries); an entry past its TTL, which is the caller's capped by the
// key's own; every entry when the client closes. A read and an invalidation that cross are resolved for the invalidation:
// the reply is returned but not cached. A read of a key that does not exist is not
// cached (its creation could happen on another node, during a slot migration).
//
// Caching needs RESP3 (Options.Protocol 3, the default): with Protocol 2, NewClient
// fails; a server without HELLO (Redis < 6) fails the connection's handshake.
type CacheOptions struct {
	// MaxBytes is the memory the cached replies may take, with their keys and a fixed
	// overhead per entry; past it, entries are evicted (CLOCK: the least recently hit
	// first, roughly). 0 turns caching off (DoCache then fails with ErrNoCache).
	MaxBytes int64
	// Broadcast uses the server's broadcast mode: every key starting with one of
	// Prefixes (every key when none) is tracked for the client, read or not, and only
	// such keys are cached (a read of another key is sent uncached). The default mode
	// (OPTIN) tracks exactly the keys read with DoCache, at the cost of a CLIENT
	// CACHING yes sent with each miss; broadcast mode suits a small set of hot
	// prefixes, whose every write reaches every client.
	Broadcast bool
	Prefixes  []string
}

// ErrNoCache is DoCache's error on a client whose Options.Cache.MaxBytes is 0.
var ErrNoCache = cluster.ErrNoCache

// NotCacheableError is DoCache's error for a command whose reply cannot be cached: not
// read-only, nondeterministic (SRANDMEMBER, …), a script (EVAL_RO, EVALSHA_RO,
// FCALL_RO), keyless, blocking, or unknown.
type NotCacheableError = cluster.NotCacheableError

// validate checks the cache options against the protocol.
func (o CacheOptions) validate(protocol int) error {
	if o.MaxBytes < 0 {
		return fmt.Errorf("redline: Options.Cache.MaxBytes must not be negative (got %d)", o.MaxBytes)
	}
	if o.MaxBytes == 0 {
		if o.Broadcast || len(o.Prefixes) > 0 {
			return errors.New("redline: Options.Cache: Broadcast or Prefixes set with MaxBytes 0 (caching off)")
		}
		return nil
	}
	if protocol == 2 {
		return errors.New("redline: Options.Cache needs Options.Protocol 3: invalidations are RESP3 pushes")
	}
	if len(o.Prefixes) > 0 && !o.Broadcast {
		return errors.New("redline: Options.Cache.Prefixes are for Broadcast mode")
	}
	return nil
}

// engineCache is the engine's configuration of the cache (nil: off).
func (o CacheOptions) engineCache() *cluster.CacheConfig {
	if o.MaxBytes == 0 {
		return nil
	}
	return &cluster.CacheConfig{Store: cache.New(o.MaxBytes), Broadcast: o.Broadcast,
		Prefixes: append([]string(nil), o.Prefixes...)}
}

// DoCache runs a read-only command like Do, serving its reply from the client's cache
// when it is there: a hit costs no round trip and no allocation. A miss reads it from
// the slot's primary (whatever Options.ReadFrom says: the primary tracks it) and
// caches the reply for ttl, or less when its key expires sooner; concurrent misses of
// one command share one read. Arguments are strings, []byte, integers and floats (a
// command with another type is sent, not cached). The reply of a hit is shared with
// every other hit: do not modify what Result.Bytes or Value return. A command that
// cannot be cached fails with *NotCacheableError, nothing sent; without
// Options.Cache, with ErrNoCache. The call keeps Do's deadline: a miss is bounded as
// Do is, and a wait for another caller's read by the same deadline.
func (c *Client) DoCache(ctx context.Context, ttl time.Duration, args ...any) Result {
	if len(args) == 0 {
		return Result{err: errors.New("redline: DoCache: empty command")}
	}
	if c.e.Closed() {
		return Result{err: ErrClosed}
	}
	var tr cluster.Trace
	if c.hooked {
		var r Result
		c.aroundCommand(ctx, CommandStart{Name: commandName(args), Commands: 1}, func(end *CommandEnd) {
			rep, hit := c.e.DoCache(ctx, ttl, args, &tr)
			r = resultOf(rep)
			end.Slot, end.Attempts, end.Redirects, end.Asks, end.Err = tr.Slot, tr.Attempts, tr.Redirects, tr.Asks, r.Err()
			end.Node, end.Zone, end.CacheHit = tr.NodeAddr(), tr.NodeZone(), hit
		})
		return r
	}
	rep, _ := c.e.DoCache(ctx, ttl, args, &tr)
	return resultOf(rep)
}

// Cached returns a view of the client whose reads are served from its cache for up
// to ttl (see DoCache): c.Cached(time.Minute).Get(ctx, "k").
func (c *Client) Cached(ttl time.Duration) Cached { return Cached{c: c, ttl: ttl} }

// Cached is the cached reads of a client (Client.Cached): typed methods like the
// client's, each a DoCache with the view's TTL. A hit of Get allocates nothing.
type Cached struct {
	c   *Client
	ttl time.Duration
}

// Get returns the value of key (GET); Nil when the key does not exist.
func (v Cached) Get(ctx context.Context, key string) (string, error) {
	return decodeText(v.c.DoCache(ctx, v.ttl, "GET", key))
}

// MGet returns the values of keys, nil for a missing one. Each key is a cached GET
// of its own (its entry shared with Get's), so the keys may be in any slots; the
// misses are read concurrently (their reads share each node's pipeline).
func (v Cached) MGet(ctx context.Context, keys ...string) ([]*string, error) {
	res := make([]Result, len(keys))
	done := make([]bool, len(keys))
	var misses []int
	for i, k := range keys {
		if !v.c.e.CacheHas([]any{"GET", k}) {
			misses = append(misses, i)
		}
	}
	if len(misses) > 1 {
		var wg sync.WaitGroup
		sem := make(chan struct{}, maxMGetReads)
		for _, i := range misses {
			sem <- struct{}{}
			wg.Go(func() {
				defer func() { <-sem }()
				res[i], done[i] = v.c.DoCache(ctx, v.ttl, "GET", keys[i]), true
			})
		}
		wg.Wait()
	}
	out := make([]*string, len(keys))
	for i, k := range keys {
		r := res[i]
		if !done[i] {
			r = v.c.DoCache(ctx, v.ttl, "GET", k)
		}
		s, err := decodeText(r)
		switch {
		case errors.Is(err, Nil):
		case err != nil:
			return nil, err
		default:
			out[i] = &s
		}
	}
	return out, nil
}

// maxMGetReads bounds the concurrent misses of one Cached.MGet.
const maxMGetReads = 64

// Exists returns how many of keys exist (EXISTS, one cached entry per key).
func (v Cached) Exists(ctx context.Context, keys ...string) (int64, error) {
	var n int64
	for _, k := range keys {
		x, err := v.c.DoCache(ctx, v.ttl, "EXISTS", k).Int64()
		if err != nil {
			return 0, err
		}
		n += x
	}
	return n, nil
}

// HGet returns the value of field in the hash at key (HGET); Nil when missing.
func (v Cached) HGet(ctx context.Context, key, field string) (string, error) {
	return decodeText(v.c.DoCache(ctx, v.ttl, "HGET", key, field))
}

// HMGet returns the values of the fields of the hash at key that exist (HMGET).
func (v Cached) HMGet(ctx context.Context, key string, fields ...string) (map[string]string, error) {
	args := make([]any, 0, 2+len(fields))
	args = append(args, "HMGET", key)
	args = appendStrings(args, fields)
	return decodeKeyed(v.c.DoCache(ctx, v.ttl, args...), fields)
}

// HGetAll returns every field of the hash at key with its value (HGETALL).
func (v Cached) HGetAll(ctx context.Context, key string) (map[string]string, error) {
	return v.c.DoCache(ctx, v.ttl, "HGETALL", key).StringMap()
}

// SMembers returns the members of the set at key (SMEMBERS).
func (v Cached) SMembers(ctx context.Context, key string) ([]string, error) {
	return v.c.DoCache(ctx, v.ttl, "SMEMBERS", key).Strings()
}

// SIsMember reports whether member is in the set at key (SISMEMBER).
func (v Cached) SIsMember(ctx context.Context, key, member string) (bool, error) {
	return v.c.DoCache(ctx, v.ttl, "SISMEMBER", key, member).Bool()
}

// ZScore returns the score of member in the sorted set at key (ZSCORE); Nil when
// missing.
func (v Cached) ZScore(ctx context.Context, key, member string) (float64, error) {
	return v.c.DoCache(ctx, v.ttl, "ZSCORE", key, member).Float64()
}

// ZRange returns the members of the sorted set at key from rank start to stop
// (ZRANGE key start stop).
func (v Cached) ZRange(ctx context.Context, key string, start, stop int64) ([]string, error) {
	return v.c.DoCache(ctx, v.ttl, "ZRANGE", key, start, stop).Strings()
}

// StrLen returns the length of the string at key (STRLEN).
func (v Cached) StrLen(ctx context.Context, key string) (int64, error) {
	return v.c.DoCache(ctx, v.ttl, "STRLEN", key).Int64()
}

// HLen, LLen, SCard and ZCard return the size of the hash, list, set or sorted set
// at key.
func (v Cached) HLen(ctx context.Context, key string) (int64, error) {
	return v.c.DoCache(ctx, v.ttl, "HLEN", key).Int64()
}

// LLen returns the length of the list at key (LLEN).
func (v Cached) LLen(ctx context.Context, key string) (int64, error) {
	return v.c.DoCache(ctx, v.ttl, "LLEN", key).Int64()
}

// SCard returns the number of members of the set at key (SCARD).
func (v Cached) SCard(ctx context.Context, key string) (int64, error) {
	return v.c.DoCache(ctx, v.ttl, "SCARD", key).Int64()
}

// ZCard returns the number of members of the sorted set at key (ZCARD).
func (v Cached) ZCard(ctx context.Context, key string) (int64, error) {
	return v.c.DoCache(ctx, v.ttl, "ZCARD", key).Int64()
}

// LRange returns the elements of the list at key from start to stop (LRANGE).
func (v Cached) LRange(ctx context.Context, key string, start, stop int64) ([]string, error) {
	return v.c.DoCache(ctx, v.ttl, "LRANGE", key, start, stop).Strings()
}

// CacheStats are the client-side cache's figures (Stats.Cache).
type CacheStats struct {
	// Hits are cached reads served from memory (a caller that waited for another's
	// read of the same command included); Misses those that went to the server.
	Hits, Misses uint64
	// Entries and Bytes are what the cache holds now (Bytes as charged to MaxBytes).
	Entries, Bytes int64
	// Evictions counts entries dropped for the budget; Invalidations the keys the
	// servers invalidated that had entries; Flushes the invalidations of a whole node
	// (FLUSHALL, FLUSHDB).
	Evictions, Invalidations, Flushes uint64
}

// cacheStats returns the cache's figures (zero when caching is off).
func (c *Client) cacheStats() CacheStats {
	k, ok := c.e.CacheCounters()
	if !ok {
		return CacheStats{}
	}
	return CacheStats{Hits: k.Hits, Misses: k.Misses, Entries: k.Entries, Bytes: k.Bytes,
		Evictions: k.Evictions, Invalidations: k.Invalidations, Flushes: k.Flushes}
}
