package main

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
)

// redisURL is what -u says. parseRedisURL is the CLI's own small parser, meant to be
// swapped for the library's URL parser when it has one.
type redisURL struct {
	addr       string // host:port
	user, pass string
	hasPass    bool
	tls        bool // rediss://
	db         int
}

// parseRedisURL parses redis://[user[:password]@]host[:port][/db] (rediss:// for TLS;
// a password alone is redis://:password@host). The port defaults to 6379.
func parseRedisURL(s string) (*redisURL, error) {
	u, err := url.Parse(s)
	if err != nil {
		return nil, fmt.Errorf("-u: not a URL (%v)", errors.Unwrap(err)) // the URL itself may hold a password
	}
	out := &redisURL{}
	switch u.Scheme {
	case "redis":
	case "rediss":
		out.tls = true
	default:
		return nil, fmt.Errorf("-u: scheme %q: want redis:// or rediss://", u.Scheme)
	}
	if u.Opaque != "" || u.Host == "" {
		return nil, fmt.Errorf("-u %s: no host (want redis://host:port)", redactURL(u))
	}
	host, port := u.Hostname(), u.Port()
	if port == "" {
		port = "6379"
	}
	if p, err := strconv.Atoi(port); err != nil || p <= 0 || p > 65535 {
		return nil, fmt.Errorf("-u %s: bad port %q", redactURL(u), port)
	}
	out.addr = net.JoinHostPort(host, port)
	if u.User != nil {
		out.user = u.User.Username()
		out.pass, out.hasPass = u.User.Password()
		if !out.hasPass && out.user != "" {
			// redis://password@host, as redis-cli reads it: a lone name is the password.
			out.pass, out.hasPass, out.user = out.user, true, ""
		}
	}
	if p := strings.Trim(u.Path, "/"); p != "" {
		db, err := strconv.Atoi(p)
		if err != nil || db < 0 {
			return nil, fmt.Errorf("-u %s: bad database %q", redactURL(u), p)
		}
		out.db = db
	}
	return out, nil
}

// redactURL returns u without its password, for messages.
func redactURL(u *url.URL) string {
	return u.Redacted()
}
