package redistest

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// ValkeyEnv names the environment variable that gives FindValkey the Valkey 8.0+ binary
// for tests that need one (availability zones) whatever ServerEnv picks.
const ValkeyEnv = "REDLINE_VALKEY_SERVER"

// valkeyLauncher is where scripts/servers.sh puts Valkey 8.0.1's launcher, under its
// destination ($REDLINE_SERVERS, or .cache/servers in the repository).
const valkeyLauncher = "valkey-8.0.1/bin/valkey-server"

// FindValkey returns a Valkey 8.0+ server for the tests that need one: the server
// ServerEnv picks if it is one, else $REDLINE_VALKEY_SERVER, else the launcher that
// scripts/servers.sh fetched ($REDLINE_SERVERS/valkey-8.0.1, or .cache/servers in the
// repository, found from the working directory up). The error says how to get one.
func FindValkey() (Server, error) {
	if s, err := ProbeServer(""); err == nil && ZonesSupported(s) {
		return s, nil
	}
	var paths []string
	if p := os.Getenv(ValkeyEnv); p != "" {
		paths = append(paths, p)
	}
	if d := os.Getenv("REDLINE_SERVERS"); d != "" {
		paths = append(paths, filepath.Join(d, valkeyLauncher))
	}
	if dir, err := os.Getwd(); err == nil {
		for range 8 { // bounded: the repository root is a few levels up at most
			if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
				paths = append(paths, filepath.Join(dir, ".cache", "servers", valkeyLauncher))
			}
			up := filepath.Dir(dir)
			if up == dir {
				break
			}
			dir = up
		}
	}
	var errs []error
	for _, p := range paths {
		if _, err := os.Stat(p); err != nil {
			errs = append(errs, err)
			continue
		}
		s, err := ProbeServer(p)
		if err == nil && ZonesSupported(s) {
			return s, nil
		}
		if err == nil {
			err = fmt.Errorf("%s is %s", p, s)
		}
		errs = append(errs, err)
	}
	return Server{}, fmt.Errorf("redistest: no Valkey 8.0+ server: run scripts/servers.sh valkey-8.0 (make deps does), or set %s: %w",
		ValkeyEnv, errors.Join(errs...))
}
