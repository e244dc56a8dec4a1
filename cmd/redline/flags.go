package main

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/redline-go/redline"
)

// connFlags are the connection flags shared by do, probe and bench.
type connFlags struct {
	addrs    string
	timeout  time.Duration
	useTLS   bool
	cacert   string
	user     string
	pass     redline.Secret
	readFrom string
	zone     string
	json     bool
}

// register adds the flags to fs. Defaults come from the environment where noted.
func (f *connFlags) register(fs *flag.FlagSet) {
	def := os.Getenv("REDLINE_ADDRS")
	if def == "" {
		def = "127.0.0.1:6379"
	}
	fs.StringVar(&f.addrs, "c", def, "seed node addresses, comma-separated (env REDLINE_ADDRS)")
	fs.DurationVar(&f.timeout, "timeout", time.Second, "deadline of each command, and of each connection attempt")
	fs.BoolVar(&f.useTLS, "tls", false, "connect with TLS (certificates are verified)")
	fs.StringVar(&f.cacert, "cacert", "", "PEM file of the CA to trust (with -tls; default: the system's roots)")
	fs.StringVar(&f.user, "user", "", "ACL username")
	fs.Var(&f.pass, "pass", "password (prefer env REDLINE_PASSWORD: flags show in process lists)")
	fs.StringVar(&f.readFrom, "read-from", "primary", "where reads go: primary, prefer-replica, replica-only, nearest, local-zone")
	fs.StringVar(&f.zone, "zone", "", "the client's availability zone (for -read-from local-zone)")
	fs.BoolVar(&f.json, "json", false, "print JSON instead of text")
}

// seeds returns the seed addresses.
func (f *connFlags) seeds() []string {
	var out []string
	for _, a := range strings.Split(f.addrs, ",") {
		if a = strings.TrimSpace(a); a != "" {
			out = append(out, a)
		}
	}
	return out
}

// tlsConfig returns the TLS configuration, nil without -tls.
func (f *connFlags) tlsConfig() (*tls.Config, error) {
	if !f.useTLS {
		if f.cacert != "" {
			return nil, errors.New("-cacert needs -tls")
		}
		return nil, nil
	}
	conf := &tls.Config{MinVersion: tls.VersionTLS12}
	if f.cacert != "" {
		pem, err := os.ReadFile(f.cacert)
		if err != nil {
			return nil, fmt.Errorf("-cacert: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("-cacert: no PEM certificate in %s", f.cacert)
		}
		conf.RootCAs = pool
	}
	return conf, nil
}

// password returns -pass, or REDLINE_PASSWORD.
func (f *connFlags) password() redline.Secret {
	if !f.pass.IsZero() {
		return f.pass
	}
	return redline.NewSecret(os.Getenv("REDLINE_PASSWORD"))
}

// options turns the flags into client options.
func (f *connFlags) options() (redline.Options, error) {
	tlsConf, err := f.tlsConfig()
	if err != nil {
		return redline.Options{}, err
	}
	rf, err := redline.ParseReadFrom(f.readFrom)
	if err != nil {
		return redline.Options{}, err
	}
	if f.timeout <= 0 {
		return redline.Options{}, errors.New("-timeout must be positive")
	}
	return redline.Options{
		Addrs:          f.seeds(),
		TLSConfig:      tlsConf,
		Username:       f.user,
		Password:       f.password(),
		ReadFrom:       rf,
		Zone:           f.zone,
		CommandTimeout: f.timeout,
		DialTimeout:    f.timeout,
		ClientName:     "redline-cli",
	}, nil
}

// parseFlags parses args with fs; on -h it prints the usage and reports done with code
// 0, on a bad flag code 2.
func parseFlags(fs *flag.FlagSet, args []string) (done bool, code int) {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return true, 0
		}
		return true, exitUsage
	}
	return false, 0
}
