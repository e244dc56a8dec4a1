// Package kv builds the three client libraries the benchmarks compare (redline,
// go-redis, rueidis) behind one small interface, for the report and the lone-caller
// tool alike.
package kv

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/redis/rueidis"
	"github.com/redline-go/redline"
)

// KV is what the benchmarks ask of a client: GET and SET of one key. A missing key
// is not an error. The value read by GET is received and checked by the client
// library, then dropped (every client gets the same treatment: .Err() / .Error()).
type KV interface {
	Get(ctx context.Context, key string) error
	Set(ctx context.Context, key, val string) error
	Close() error
}

// Spec is how to build one client library's cluster client.
type Spec struct {
	Name string
	// New connects with the library's default options (timeout 0) or with the options
	// its documentation recommends for a call timeout.
	New func(ctx context.Context, addrs []string, tlsConf *tls.Config, timeout time.Duration) (KV, error)
	// Config describes, for the report, the options New sets for a timeout.
	Config string
}

// The clients' names.
const (
	Redline = "redline"
	GoRedis = "go-redis"
	Rueidis = "rueidis"
)

// Clients are the three libraries in the order a round runs them.
var Clients = []Spec{
	{Name: Redline, New: newRedline,
		Config: "`redline.Options{CommandTimeout: t, DialTimeout: t}`; every call's context has deadline t too"},
	{Name: GoRedis, New: newGoRedis,
		Config: "`redis.ClusterOptions{DialTimeout: t, ReadTimeout: t, WriteTimeout: t}` (ContextTimeoutEnabled left at its default, false); every call's context has deadline t"},
	{Name: Rueidis, New: newRueidis,
		Config: "`rueidis.ClientOption{Dialer: net.Dialer{Timeout: t}, ConnWriteTimeout: t}`; every call's context has deadline t"},
}

// ByName returns the client called name; it panics for an unknown name.
func ByName(name string) Spec {
	c, ok := Lookup(name)
	if !ok {
		panic("unknown client " + name)
	}
	return c
}

// Lookup returns the client called name, and whether there is one.
func Lookup(name string) (Spec, bool) {
	for _, c := range Clients {
		if c.Name == name {
			return c, true
		}
	}
	return Spec{}, false
}

// peerTLS returns a copy of conf naming the server 127.0.0.1 (the certificates name
// 127.0.0.1 and localhost); nil stays nil. redline sets the name per node itself.
func peerTLS(conf *tls.Config) *tls.Config {
	if conf == nil {
		return nil
	}
	c := conf.Clone()
	c.ServerName = "127.0.0.1"
	return c
}

// --- redline ---

type redlineKV struct{ c *redline.Client }

// WrapRedline returns c as a KV.
func WrapRedline(c *redline.Client) KV { return redlineKV{c} }

func newRedline(ctx context.Context, addrs []string, tlsConf *tls.Config, timeout time.Duration) (KV, error) {
	c, err := redline.NewClient(ctx, redline.Options{
		Addrs:          addrs,
		TLSConfig:      tlsConf,
		CommandTimeout: timeout,
		DialTimeout:    timeout,
	})
	if err != nil {
		return nil, err
	}
	return redlineKV{c}, nil
}

func (r redlineKV) Get(ctx context.Context, key string) error {
	err := r.c.Do(ctx, "GET", key).Err()
	return err
}

func (r redlineKV) Set(ctx context.Context, key, val string) error {
	return r.c.Do(ctx, "SET", key, val).Err()
}

func (r redlineKV) Close() error { return r.c.Close() }

// --- go-redis ---

// quietLogger drops go-redis's log lines (one per failed dial in the fault runs).
type quietLogger struct{}

func (quietLogger) Printf(context.Context, string, ...any) {}

func init() { goredis.SetLogger(quietLogger{}) }

type goRedisKV struct{ c goredis.UniversalClient }

// WrapGoRedis returns c (a cluster, failover or standalone client) as a KV.
func WrapGoRedis(c goredis.UniversalClient) KV { return goRedisKV{c} }

func newGoRedis(_ context.Context, addrs []string, tlsConf *tls.Config, timeout time.Duration) (KV, error) {
	return goRedisKV{goredis.NewClusterClient(&goredis.ClusterOptions{
		Addrs:        addrs,
		TLSConfig:    peerTLS(tlsConf),
		DialTimeout:  timeout,
		ReadTimeout:  timeout,
		WriteTimeout: timeout,
	})}, nil
}

func (g goRedisKV) Get(ctx context.Context, key string) error {
	err := g.c.Get(ctx, key).Err()
	if errors.Is(err, goredis.Nil) {
		return nil
	}
	return err
}

func (g goRedisKV) Set(ctx context.Context, key, val string) error {
	return g.c.Set(ctx, key, val, 0).Err()
}

func (g goRedisKV) Close() error { return g.c.Close() }

// --- rueidis ---

type rueidisKV struct{ c rueidis.Client }

// WrapRueidis returns c as a KV.
func WrapRueidis(c rueidis.Client) KV { return rueidisKV{c} }

func newRueidis(_ context.Context, addrs []string, tlsConf *tls.Config, timeout time.Duration) (KV, error) {
	c, err := rueidis.NewClient(rueidis.ClientOption{
		InitAddress:      addrs,
		TLSConfig:        peerTLS(tlsConf),
		Dialer:           net.Dialer{Timeout: timeout},
		ConnWriteTimeout: timeout,
	})
	if err != nil {
		return nil, err
	}
	return rueidisKV{c}, nil
}

func (r rueidisKV) Get(ctx context.Context, key string) error {
	err := r.c.Do(ctx, r.c.B().Get().Key(key).Build()).Error()
	if rueidis.IsRedisNil(err) {
		return nil
	}
	return err
}

func (r rueidisKV) Set(ctx context.Context, key, val string) error {
	return r.c.Do(ctx, r.c.B().Set().Key(key).Value(val).Build()).Error()
}

func (r rueidisKV) Close() error { r.c.Close(); return nil }
