package main

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

// kv is what the benchmarks ask of a client: GET and SET of one key. A missing key
// is not an error. The value read by GET is received and checked by the client
// library, then dropped (every client gets the same treatment: .Err() / .Error()).
type kv interface {
	Get(ctx context.Context, key string) error
	Set(ctx context.Context, key, val string) error
	Close() error
}

// clientSpec is how to build one client library's cluster client.
type clientSpec struct {
	Name string
	// New connects with the library's default options (timeout 0) or with the options
	// its documentation recommends for a call timeout.
	New func(ctx context.Context, addrs []string, tlsConf *tls.Config, timeout time.Duration) (kv, error)
	// Config describes, for the report, the options New sets for a timeout.
	Config string
}

const (
	nameRedline = "redline"
	nameGoRedis = "go-redis"
	nameRueidis = "rueidis"
)

// clients are the three libraries in the order a round runs them.
var clients = []clientSpec{
	{Name: nameRedline, New: newRedline,
		Config: "`redline.Options{CommandTimeout: t, DialTimeout: t}`; every call's context has deadline t too"},
	{Name: nameGoRedis, New: newGoRedis,
		Config: "`redis.ClusterOptions{DialTimeout: t, ReadTimeout: t, WriteTimeout: t}` (ContextTimeoutEnabled left at its default, false); every call's context has deadline t"},
	{Name: nameRueidis, New: newRueidis,
		Config: "`rueidis.ClientOption{Dialer: net.Dialer{Timeout: t}, ConnWriteTimeout: t}`; every call's context has deadline t"},
}

func clientByName(name string) clientSpec {
	for _, c := range clients {
		if c.Name == name {
			return c
		}
	}
	panic("unknown client " + name)
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

func newRedline(ctx context.Context, addrs []string, tlsConf *tls.Config, timeout time.Duration) (kv, error) {
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

type goRedisKV struct{ c *goredis.ClusterClient }

func newGoRedis(_ context.Context, addrs []string, tlsConf *tls.Config, timeout time.Duration) (kv, error) {
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

func newRueidis(_ context.Context, addrs []string, tlsConf *tls.Config, timeout time.Duration) (kv, error) {
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
