package main

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/redline-go/redline"
)

// connFlags are the connection flags shared by the command mode, probe and bench: the
// redis-cli ones (-h, -p, -a, --user, --tls, --cacert, --cert, --key, --sni, -u, -n)
// and redline's own (-c for several seeds, --timeout, --read-from, --zone, --json).
type connFlags struct {
	addrs    string
	host     string
	port     int
	url      string
	db       int
	timeout  time.Duration
	useTLS   bool
	cacert   string
	cert     string
	key      string
	sni      string
	user     string
	pass     redline.Secret
	readFrom string
	zone     string
	json     bool

	set map[string]bool  // the flags given on the command line
	u   *redline.Options // -u, parsed by redline.ParseURL
}

// defaultAddrs is -c's default: REDLINE_ADDRS, else 127.0.0.1:6379.
func defaultAddrs() string {
	if def := os.Getenv("REDLINE_ADDRS"); def != "" {
		return def
	}
	return "127.0.0.1:6379"
}

// register adds the flags to fs. Defaults come from the environment where noted.
func (f *connFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.addrs, "c", defaultAddrs(), "seed node `addresses`, comma-separated (env REDLINE_ADDRS); a bare -c (redis-cli's cluster mode) is accepted and ignored: redline always follows the cluster")
	fs.StringVar(&f.host, "h", "127.0.0.1", "seed `host`, as redis-cli's -h (with -p; replaces -c)")
	fs.IntVar(&f.port, "p", 6379, "seed `port`, as redis-cli's -p (with -h; replaces -c)")
	fs.StringVar(&f.url, "u", "", "seed as a `URL`: redis://[user[:password]@]host[:port][/0], rediss:// for TLS")
	fs.IntVar(&f.db, "n", 0, "database `number` (a standalone server's; a cluster has only database 0)")
	fs.DurationVar(&f.timeout, "timeout", time.Second, "deadline of each command, and of each connection attempt")
	fs.BoolVar(&f.useTLS, "tls", false, "connect with TLS (certificates are verified)")
	fs.StringVar(&f.cacert, "cacert", "", "PEM `file` of the CA to trust, with --tls (\"\": the system's roots)")
	fs.StringVar(&f.cert, "cert", "", "PEM `file` of the client certificate (with --tls and --key)")
	fs.StringVar(&f.key, "key", "", "PEM `file` of the client certificate's private key (with --cert)")
	fs.StringVar(&f.sni, "sni", "", "server `name` to verify every node's certificate against (\"\": each node's host)")
	fs.StringVar(&f.user, "user", "", "ACL `username`")
	fs.Var(&f.pass, "pass", "password (prefer env REDLINE_PASSWORD or REDISCLI_AUTH: flags show in process lists)")
	fs.Var(&f.pass, "a", "password, as redis-cli's -a (same as --pass)")
	fs.StringVar(&f.readFrom, "read-from", "primary", "`where` reads go: primary, prefer-replica, replica-only, nearest, local-zone")
	fs.StringVar(&f.zone, "zone", "", "the client's availability `zone` (for --read-from local-zone)")
	fs.BoolVar(&f.json, "json", false, "print JSON instead of text")
}

// check validates the flags after parsing (fs: to learn which were given).
func (f *connFlags) check(fs *flag.FlagSet) error {
	f.set = map[string]bool{}
	fs.Visit(func(fl *flag.Flag) { f.set[fl.Name] = true })
	if f.url != "" {
		u, err := redline.ParseURL(f.url)
		if err != nil {
			return fmt.Errorf("-u: %w", err)
		}
		f.u = &u
		if u.TLSConfig != nil {
			f.useTLS = true
		}
		if f.user == "" {
			f.user = u.Username
		}
		if !f.set["n"] {
			f.db = u.DB
		}
	}
	if f.db < 0 {
		return fmt.Errorf("-n %d: not a database number", f.db)
	}
	if f.port <= 0 || f.port > 65535 {
		return fmt.Errorf("-p %d: not a port", f.port)
	}
	if f.timeout <= 0 {
		return errors.New("--timeout must be positive")
	}
	if len(f.seeds()) == 0 && !f.sentinel() {
		return errors.New("-c: no seed address")
	}
	if (f.cert == "") != (f.key == "") {
		return errors.New("--cert and --key go together")
	}
	if !f.useTLS && (f.cacert != "" || f.cert != "" || f.sni != "") {
		return errors.New("--cacert, --cert and --sni need --tls")
	}
	return nil
}

// seeds returns the seed addresses: -u's, else -h/-p's when either was given (and
// -c's too when it was given as well), else -c's.
func (f *connFlags) seeds() []string {
	if f.u != nil {
		return f.u.Addrs
	}
	var out []string
	if f.set["h"] || f.set["p"] {
		out = append(out, net.JoinHostPort(f.host, strconv.Itoa(f.port)))
		if !f.set["c"] {
			return out
		}
	}
	for _, a := range strings.Split(f.addrs, ",") {
		if a = strings.TrimSpace(a); a != "" {
			out = append(out, a)
		}
	}
	return out
}

// tlsConfig returns the TLS configuration, nil without --tls.
func (f *connFlags) tlsConfig() (*tls.Config, error) {
	if !f.useTLS {
		return nil, nil
	}
	conf := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: f.sni}
	if f.cacert != "" {
		pem, err := os.ReadFile(f.cacert)
		if err != nil {
			return nil, fmt.Errorf("--cacert: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("--cacert: no PEM certificate in %s", f.cacert)
		}
		conf.RootCAs = pool
	}
	if f.cert != "" {
		pair, err := tls.LoadX509KeyPair(f.cert, f.key)
		if err != nil {
			return nil, fmt.Errorf("--cert/--key: %w", err)
		}
		conf.Certificates = []tls.Certificate{pair}
	}
	return conf, nil
}

// password returns --pass (or -a, or -u's), else REDLINE_PASSWORD, else REDISCLI_AUTH.
func (f *connFlags) password() redline.Secret {
	if !f.pass.IsZero() {
		return f.pass
	}
	if f.u != nil && !f.u.Password.IsZero() {
		return f.u.Password
	}
	if p := os.Getenv("REDLINE_PASSWORD"); p != "" {
		return redline.NewSecret(p)
	}
	return redline.NewSecret(os.Getenv("REDISCLI_AUTH"))
}

// options turns the flags into client options.
func (f *connFlags) options() (redline.Options, error) {
	tlsConf, err := f.tlsConfig()
	if err != nil {
		return redline.Options{}, err
	}
	rf, err := redline.ParseReadFrom(f.readFrom)
	if err != nil {
		return redline.Options{}, fmt.Errorf("--read-from: %w", err)
	}
	o := redline.Options{}
	if f.u != nil {
		o = *f.u // what the URL says (its shape, Sentinels, replicas…); the flags below win
	}
	o.Addrs = f.seeds()
	o.TLSConfig = tlsConf
	if f.u != nil && f.u.TLSConfig != nil && !f.set["cacert"] && !f.set["cert"] && !f.set["sni"] {
		o.TLSConfig = f.u.TLSConfig // rediss:// (with its skip_verify, if any)
	}
	o.Username = f.user
	o.Password = f.password()
	o.DB = f.db
	o.ReadFrom = rf
	o.Zone = f.zone
	o.CommandTimeout = f.timeout
	o.DialTimeout = f.timeout
	o.ClientName = "redline-cli"
	return o, nil
}

// sentinel reports whether -u named Sentinels (redis+sentinel://): the primary is
// found through them, no seed address is needed.
func (f *connFlags) sentinel() bool { return f.u != nil && f.u.Sentinel.MasterName != "" }

// cliFlags is a flag set with the usage text of its command, parsed the redline way:
// --help prints the text and every flag with its default to stdout (exit 0); a bad flag
// is one line on stderr (exit 2).
type cliFlags struct {
	*flag.FlagSet
	name, usage    string
	stdout, stderr io.Writer
}

// newFlags returns an empty cliFlags for command name ("redline", "redline probe"…).
func newFlags(name, usage string, stdout, stderr io.Writer) *cliFlags {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	c := &cliFlags{FlagSet: fs, name: name, usage: usage, stdout: stdout, stderr: stderr}
	fs.Usage = func() {}
	return c
}

// parse parses args; done reports that the caller should exit with code (help or a
// bad flag). A bare -h (no host after it) and --help ask for the help.
func (c *cliFlags) parse(args []string) (done bool, code int) {
	args = cliArgs(c.FlagSet, args)
	if err := c.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			c.printHelp(c.stdout)
			return true, 0
		}
		fmt.Fprintf(c.stderr, "%s: %v (see '%s --help')\n", c.name, err, c.name)
		return true, exitUsage
	}
	return false, 0
}

// usageError prints a one-line usage error and returns exitUsage.
func (c *cliFlags) usageError(format string, a ...any) int {
	fmt.Fprintf(c.stderr, "%s: %s (see '%s --help')\n", c.name, fmt.Sprintf(format, a...), c.name)
	return exitUsage
}

// cliArgs rewrites redis-cli habits flag cannot parse: a -h with nothing after it is
// a request for help, and a -c followed by another flag, by nothing or by a word that
// is not an address list (redis-cli's cluster-mode switch) is dropped.
func cliArgs(fs *flag.FlagSet, args []string) []string {
	out := make([]string, 0, len(args))
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" || !strings.HasPrefix(a, "-") {
			return append(out, args[i:]...)
		}
		name := strings.TrimLeft(a, "-")
		if strings.Contains(name, "=") {
			out = append(out, a)
			continue
		}
		switch {
		case name == "h" && i == len(args)-1 && fs.Lookup("h") != nil && !isBoolFlag(fs.Lookup("h")):
			return append(out, "-help")
		case name == "c" && fs.Lookup("c") != nil && (i == len(args)-1 || !looksLikeAddrs(args[i+1])):
			continue
		}
		out = append(out, a)
		if fl := fs.Lookup(name); fl != nil && !isBoolFlag(fl) && i+1 < len(args) {
			i++
			out = append(out, args[i])
		}
	}
	return out
}

// looksLikeAddrs reports whether s is a seed list ("host:port[,host:port…]").
func looksLikeAddrs(s string) bool {
	return !strings.HasPrefix(s, "-") && strings.Contains(s, ":")
}

func isBoolFlag(fl *flag.Flag) bool {
	b, ok := fl.Value.(interface{ IsBoolFlag() bool })
	return ok && b.IsBoolFlag()
}

// printHelp prints the usage text, then every flag with its default.
func (c *cliFlags) printHelp(w io.Writer) {
	fmt.Fprint(w, c.usage)
	fmt.Fprintln(w, "\nFlags (-name and --name are the same):")
	printFlags(w, c.FlagSet)
}

// printFlags lists every flag of fs with its default, even a zero one.
func printFlags(w io.Writer, fs *flag.FlagSet) {
	fs.VisitAll(func(fl *flag.Flag) {
		dash := "--"
		if len(fl.Name) == 1 {
			dash = "-"
		}
		arg, usage := flag.UnquoteUsage(fl)
		switch {
		case isBoolFlag(fl):
			arg = ""
		case arg == "value":
			arg = "password"
		}
		def := fl.DefValue
		if _, ok := fl.Value.(*redline.Secret); ok {
			def = "none"
		} else if def == "" {
			def = `""`
		}
		fmt.Fprintf(w, "  %s\n      %s (default %s)\n", strings.TrimSpace(dash+fl.Name+" "+arg), usage, def)
	})
}
