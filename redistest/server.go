package redistest

import (
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
)

// ServerEnv names the environment variable that picks the server binary when
// Config.RedisServer is empty: a path to redis-server 6.0+ or valkey-server 7.2+ (the
// project's scripts/servers.sh fetches Redis 6.0 and Valkey 8.0). Unset means
// "redis-server" on PATH.
const ServerEnv = "REDLINE_REDIS_SERVER"

// Server describes the server binary a cluster runs, as its --version says.
type Server struct {
	// Path is the binary.
	Path string
	// Name is "redis" or "valkey".
	Name string
	// Major, Minor and Patch are its version.
	Major, Minor, Patch int
}

// AtLeast reports whether the server's version is major.minor or newer. A Valkey
// server counts as the Redis version it is compatible with (Valkey 7.2+ speaks 7.2).
func (s Server) AtLeast(major, minor int) bool {
	return s.Major > major || s.Major == major && s.Minor >= minor
}

// Valkey reports whether the server is Valkey.
func (s Server) Valkey() bool { return s.Name == "valkey" }

// String returns the server's name and version, such as "redis 6.0.16".
func (s Server) String() string { return fmt.Sprintf("%s %d.%d.%d", s.Name, s.Major, s.Minor, s.Patch) }

var (
	serversMu sync.Mutex
	servers   = map[string]Server{}
	versionRe = regexp.MustCompile(`^(Redis|Valkey) server v=(\d+)\.(\d+)\.(\d+)`)
)

// ProbeServer runs path --version (once per path per process) and returns what it
// says. The path "" means the binary Start would use: $REDLINE_REDIS_SERVER, or
// redis-server on PATH.
func ProbeServer(path string) (Server, error) {
	if path == "" {
		var err error
		if path, err = defaultServerPath(); err != nil {
			return Server{}, err
		}
	}
	serversMu.Lock()
	defer serversMu.Unlock()
	if s, ok := servers[path]; ok {
		return s, nil
	}
	out, err := exec.Command(path, "--version").CombinedOutput()
	if err != nil {
		return Server{}, fmt.Errorf("redistest: %s --version: %v: %s", path, err, strings.TrimSpace(string(out)))
	}
	m := versionRe.FindStringSubmatch(strings.TrimSpace(string(out)))
	if m == nil {
		return Server{}, fmt.Errorf("redistest: %s --version: unrecognised answer %q", path, strings.TrimSpace(string(out)))
	}
	s := Server{Path: path, Name: strings.ToLower(m[1])}
	s.Major, _ = strconv.Atoi(m[2])
	s.Minor, _ = strconv.Atoi(m[3])
	s.Patch, _ = strconv.Atoi(m[4])
	if !s.AtLeast(6, 0) {
		return Server{}, fmt.Errorf("redistest: %s is %s; Redis 6.0 or newer is needed", path, s)
	}
	servers[path] = s
	return s, nil
}

// defaultServerPath is $REDLINE_REDIS_SERVER, or redis-server on PATH.
func defaultServerPath() (string, error) {
	if p := os.Getenv(ServerEnv); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("redistest: %s=%s: %w (scripts/servers.sh fetches Redis 6.0 and Valkey 8.0)", ServerEnv, p, err)
		}
		return p, nil
	}
	p, err := exec.LookPath("redis-server")
	if err != nil {
		return "", ErrNoRedisServer
	}
	return p, nil
}
