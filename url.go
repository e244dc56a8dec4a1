package redline

import (
	"crypto/tls"
	"errors"
	"fmt"
	"math"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// ParseURL returns the Options a URL describes:
//
//	redis://[[user][:password]@]host[:port][/db][?param=value&...]
//	rediss://...   the same, over TLS
//
// The port defaults to 6379; the path, when present, is the database (Options.DB);
// user and password authenticate (a user without a password is a username alone, as
// go-redis reads it). rediss sets Options.TLSConfig (TLS 1.2 or newer, certificates
// verified against each node's name: see Options.TLSConfig). More seeds of a cluster
// are given with addr, as go-redis's ParseClusterURL does:
//
//	redis://user:pass@h1:7000?addr=h2:7000&addr=h3:7000
//
// The query parameters, each once but addr and replica:
//
//	addr                  another seed, host:port (repeatable): Options.Addrs
//	shape                 auto, cluster or standalone: Options.Shape
//	db                    the database, as the path gives it: Options.DB
//	replica               a standalone server's replica, host:port (repeatable): Options.Replicas
//	read_from             primary, prefer-replica, replica-only, nearest or local-zone
//	zone                  Options.Zone
//	split                 all, reads or none: Options.Split
//	protocol              2 or 3: Options.Protocol
//	client_name           Options.ClientName
//	dial_timeout          Options.DialTimeout
//	command_timeout       Options.CommandTimeout (go-redis's read_timeout is not taken:
//	                      it bounds one socket read, not a call)
//	reply_timeout         Options.ReplyTimeout
//	max_attempts          Options.MaxAttempts
//	max_retries           go-redis's name: retries after the first try, so
//	                      max_attempts = max_retries + 1 (-1: no retry)
//	retry_backoff         Options.RetryBackoff (go-redis: min_retry_backoff)
//	retry_backoff_max     Options.RetryBackoffMax (go-redis: max_retry_backoff)
//	refresh_interval      Options.RefreshInterval (negative: no periodic refresh)
//	refresh_min_interval  Options.RefreshMinInterval
//	skip_verify           true: do not verify certificates (rediss only; tests only)
//	sentinel_username     the Sentinels' own user (Sentinel URLs only)
//	sentinel_password     the Sentinels' own password (Sentinel URLs only)
//
// A primary found through Sentinel (Options.Sentinel) has a URL of its own:
//
//	redis+sentinel://[[user][:password]@]sentinel:port/master-name[/db][?param=value&...]
//	rediss+sentinel://...   the same, over TLS to the Sentinels and the data nodes
//
// The host (port 26379 when none) and each addr are the Sentinels; the path's first
// segment is the master name (required), its second the database. user and password
// authenticate the data nodes; sentinel_username and sentinel_password the Sentinels.
// shape and replica do not apply (the Sentinels name the servers):
//
//	redis+sentinel://:pw@10.0.0.1:26379/mymaster/0?addr=10.0.0.2:26379&addr=10.0.0.3:26379
//
// A duration is Go's syntax ("500ms", "2s") or a number of seconds ("2", "0.5"). An
// unknown parameter, a parameter given twice or a value that does not parse is an
// error naming it, as is an unknown scheme; the Options are also validated as NewClient
// validates them. No password ever appears in an error; on an error the Options
// returned are zero.
func ParseURL(rawURL string) (Options, error) {
	o, err := parseURL(rawURL)
	if err != nil {
		return Options{}, err
	}
	return o, nil
}

// parseURL is ParseURL, the Options possibly half filled on an error.
func parseURL(rawURL string) (Options, error) {
	var o Options
	u, err := url.Parse(rawURL)
	if err != nil {
		// url's messages quote the URL or a piece of it, which may be a piece of the
		// password (one holding '/', '?' or '#' splits the URL elsewhere): only the
		// kind of fault is told.
		return o, fmt.Errorf("redline: ParseURL: not a URL: %s (%s)", urlFault(err), percentHint)
	}
	if strings.Contains(u.EscapedPath(), "@") || strings.Contains(u.EscapedFragment(), "@") {
		// userinfo cut short by a '/' or '#' in the password: the rest of it is here.
		return o, fmt.Errorf("redline: ParseURL: a '@' after the host (%s)", percentHint)
	}
	sentinel := false
	switch u.Scheme {
	case "redis":
	case "rediss":
		o.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12}
	case "redis+sentinel":
		sentinel = true
	case "rediss+sentinel":
		sentinel = true
		o.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12}
		o.Sentinel.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12}
	default:
		return o, fmt.Errorf("redline: ParseURL: scheme %q: want redis, rediss, redis+sentinel or rediss+sentinel", u.Scheme)
	}
	if u.Opaque != "" || u.Host == "" {
		return o, errors.New("redline: ParseURL: no host: want redis://host:port")
	}
	defPort := "6379"
	if sentinel {
		defPort = "26379"
	}
	addr, err := urlAddr(u.Host, defPort)
	if err != nil {
		if strings.Contains(u.RawQuery, "@") { // the host may be the user and part of a password cut short by '?'
			return o, fmt.Errorf("redline: ParseURL: the host's port is not a port (%s)", percentHint)
		}
		return o, err
	}
	if sentinel {
		o.Sentinel.Addrs = []string{addr}
	} else {
		o.Addrs = []string{addr}
	}
	if u.User != nil {
		o.Username = u.User.Username()
		if p, ok := u.User.Password(); ok {
			o.Password = NewSecret(p)
		}
	}
	path := strings.Trim(u.Path, "/")
	if sentinel {
		name, db, _ := strings.Cut(path, "/")
		if name == "" {
			return o, errors.New("redline: ParseURL: a Sentinel URL names the master in its path: redis+sentinel://host:26379/master-name")
		}
		o.Sentinel.MasterName, path = name, db
	}
	if path != "" {
		if o.DB, err = strconv.Atoi(path); err != nil || o.DB < 0 {
			return o, fmt.Errorf("redline: ParseURL: path %q: want a database number", u.Path)
		}
	}
	if u.Fragment != "" {
		return o, errors.New("redline: ParseURL: a URL fragment (#...) means nothing here")
	}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil { // not quoted: the query may hold a password
		return o, fmt.Errorf("redline: ParseURL: query: %s (%s)", urlFault(err), percentHint)
	}
	if err := applyQuery(&o, q, path != "", sentinel); err != nil {
		return o, err
	}
	if _, err := o.withDefaults(); err != nil {
		return o, fmt.Errorf("redline: ParseURL: %w", err)
	}
	return o, nil
}

// percentHint is the advice of an error that cannot quote the URL.
const percentHint = "a password holding '%', '/', '?', '#' or '@' must be percent-encoded; the URL is not quoted as it may hold one"

// urlFault names the kind of a url parse error without its text (which quotes the URL).
func urlFault(err error) string {
	var ee url.EscapeError
	if errors.As(err, &ee) {
		return "an invalid %-escape"
	}
	var he url.InvalidHostError
	if errors.As(err, &he) {
		return "an invalid character in the host"
	}
	return "its parts cannot be told apart (the host's port, or a character out of place)"
}

// urlAddr returns host:port for a URL's host, the port defPort when it has none.
func urlAddr(hostport, defPort string) (string, error) {
	host, port := hostport, defPort
	if h, p, err := net.SplitHostPort(hostport); err == nil {
		host, port = h, p
	} else if strings.HasPrefix(hostport, "[") && strings.HasSuffix(hostport, "]") {
		host = hostport[1 : len(hostport)-1] // [::1] without a port
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return "", fmt.Errorf("redline: ParseURL: %q: port out of range", hostport)
	}
	if host == "" {
		return "", fmt.Errorf("redline: ParseURL: %q: no host", hostport)
	}
	return net.JoinHostPort(host, port), nil
}

// urlParams are the query parameters ParseURL knows.
var urlParams = []string{"addr", "shape", "db", "replica", "read_from", "zone", "split", "protocol",
	"client_name", "dial_timeout", "command_timeout", "reply_timeout", "max_attempts", "max_retries",
	"retry_backoff", "min_retry_backoff", "retry_backoff_max", "max_retry_backoff", "refresh_interval",
	"refresh_min_interval", "skip_verify", "sentinel_username", "sentinel_password"}

// applyQuery sets o from the query parameters; dbInPath says the path gave DB,
// sentinel that the URL is a Sentinel one (addr names Sentinels).
func applyQuery(o *Options, q url.Values, dbInPath, sentinel bool) error {
	var unknown []string
	for k, vs := range q {
		if !slices.Contains(urlParams, k) {
			unknown = append(unknown, k)
		} else if len(vs) > 1 && k != "addr" && k != "replica" {
			return fmt.Errorf("redline: ParseURL: parameter %s given %d times", k, len(vs))
		}
	}
	if len(unknown) > 0 {
		for i, k := range unknown {
			if strings.Contains(k, "@") { // a password cut short by '?': not quoted
				unknown[i] = "(one holding '@': " + percentHint + ")"
			}
		}
		slices.Sort(unknown)
		return fmt.Errorf("redline: ParseURL: unknown parameter(s) %s (known: %s)", strings.Join(unknown, ", "), strings.Join(urlParams, ", "))
	}
	bad := func(k string, err error) error {
		if strings.Contains(q.Get(k), "@") { // a password cut short by '?': not quoted
			return fmt.Errorf("redline: ParseURL: parameter %s: %v (%s)", k, err, percentHint)
		}
		return fmt.Errorf("redline: ParseURL: parameter %s=%q: %v", k, q.Get(k), err)
	}
	for _, a := range q["addr"] {
		if sentinel {
			addr, err := urlAddr(a, "26379")
			if err != nil {
				return err
			}
			o.Sentinel.Addrs = append(o.Sentinel.Addrs, addr)
			continue
		}
		addr, err := urlAddr(a, "6379")
		if err != nil {
			return err
		}
		o.Addrs = append(o.Addrs, addr)
	}
	if !sentinel && (q.Has("sentinel_username") || q.Has("sentinel_password")) {
		return errors.New("redline: ParseURL: sentinel_username and sentinel_password are for redis+sentinel:// URLs")
	}
	str := func(k string, dst *string) {
		if q.Has(k) {
			*dst = q.Get(k)
		}
	}
	str("sentinel_username", &o.Sentinel.Username)
	if q.Has("sentinel_password") {
		o.Sentinel.Password = NewSecret(q.Get("sentinel_password"))
	}
	for _, a := range q["replica"] {
		addr, err := urlAddr(a, "6379")
		if err != nil {
			return err
		}
		o.Replicas = append(o.Replicas, addr)
	}
	var err error
	num := func(k string, dst *int) {
		if q.Has(k) && err == nil {
			n, e := strconv.Atoi(q.Get(k))
			if e != nil {
				err = bad(k, errors.New("not an integer"))
			}
			*dst = n
		}
	}
	dur := func(k string, dst *time.Duration) {
		if q.Has(k) && err == nil {
			d, e := parseURLDuration(q.Get(k))
			if e != nil {
				err = bad(k, e)
			}
			*dst = d
		}
	}
	if q.Has("db") && dbInPath {
		return errors.New("redline: ParseURL: the database is given twice (path and db)")
	}
	num("db", &o.DB)
	num("protocol", &o.Protocol)
	num("max_attempts", &o.MaxAttempts)
	if q.Has("max_retries") {
		if q.Has("max_attempts") {
			return errors.New("redline: ParseURL: max_attempts and max_retries say the same: give one")
		}
		var retries int
		num("max_retries", &retries)
		if retries < 0 {
			retries = 0
		}
		o.MaxAttempts = retries + 1
	}
	str("zone", &o.Zone)
	str("client_name", &o.ClientName)
	dur("dial_timeout", &o.DialTimeout)
	dur("command_timeout", &o.CommandTimeout)
	dur("reply_timeout", &o.ReplyTimeout)
	for _, names := range [][2]string{{"retry_backoff", "min_retry_backoff"}, {"retry_backoff_max", "max_retry_backoff"}} {
		if q.Has(names[0]) && q.Has(names[1]) {
			return fmt.Errorf("redline: ParseURL: %s and %s say the same: give one", names[0], names[1])
		}
	}
	dur("retry_backoff", &o.RetryBackoff)
	dur("min_retry_backoff", &o.RetryBackoff)
	dur("retry_backoff_max", &o.RetryBackoffMax)
	dur("max_retry_backoff", &o.RetryBackoffMax)
	dur("refresh_interval", &o.RefreshInterval)
	dur("refresh_min_interval", &o.RefreshMinInterval)
	if err != nil {
		return err
	}
	if q.Has("shape") {
		if o.Shape, err = ParseShape(q.Get("shape")); err != nil {
			return bad("shape", err)
		}
	}
	if q.Has("read_from") {
		if o.ReadFrom, err = ParseReadFrom(q.Get("read_from")); err != nil {
			return bad("read_from", err)
		}
	}
	if q.Has("split") {
		if o.Split, err = ParseSplitMode(q.Get("split")); err != nil {
			return bad("split", err)
		}
	}
	if q.Has("skip_verify") {
		skip, e := strconv.ParseBool(q.Get("skip_verify"))
		if e != nil {
			return bad("skip_verify", errors.New("want true or false"))
		}
		if o.TLSConfig == nil {
			return errors.New("redline: ParseURL: skip_verify is for rediss:// (TLS) URLs")
		}
		o.TLSConfig.InsecureSkipVerify = skip
		if o.Sentinel.TLSConfig != nil {
			o.Sentinel.TLSConfig.InsecureSkipVerify = skip
		}
	}
	return nil
}

// parseURLDuration parses a Go duration ("500ms") or a number of seconds ("2", "0.5").
func parseURLDuration(s string) (time.Duration, error) {
	if d, err := time.ParseDuration(s); err == nil {
		return d, nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || f > 1e9 || f < -1e9 {
		return 0, errors.New(`want a duration ("500ms", "2s") or a number of seconds`)
	}
	return time.Duration(f * float64(time.Second)), nil
}
