package redline

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redline-go/redline/resp"
)

// The replies of the per-node methods (typed_nodes.go): slow log entries, connections,
// latency events, memory statistics.

// SlowLogEntry is one entry of a node's slow log (SLOWLOG GET).
type SlowLogEntry struct {
	ID         int64         // the entry's unique, increasing number
	Time       time.Time     // when the command ran (to the second)
	Duration   time.Duration // how long it ran (to the microsecond)
	Args       []string      // the command and its arguments (long ones cut by the server)
	ClientAddr string        // the client's address (Redis 4.0+)
	ClientName string        // the client's name, "" when it has none (Redis 4.0+)
}

// ClientInfo is one connection of a node's CLIENT LIST.
type ClientInfo struct {
	ID    int64         // id
	Addr  string        // addr: the client's address
	LAddr string        // laddr: the node's address it connected to
	Name  string        // name: the name it gave, "" for none
	User  string        // user: the ACL user it authenticated as
	Age   time.Duration // age: how long it has been connected
	Idle  time.Duration // idle: how long since its last command
	Flags string        // flags: N for a normal client, S a replica, M a primary…
	DB    int64         // db: the database selected
	Cmd   string        // cmd: the last command it ran ("client|list")
	// Fields are every field of the line as the server wrote it, those above included.
	Fields map[string]string
}

// LatencyEvent is the latest latency spike of one event of a node (LATENCY LATEST).
type LatencyEvent struct {
	Name   string        // the event, such as "command" or "fork"
	Time   time.Time     // when its latest spike happened
	Latest time.Duration // how long the latest spike took (to the millisecond)
	Max    time.Duration // the longest spike recorded for the event
}

// decodeSlowLog decodes SLOWLOG GET: an array of [id, time, µs, [args], addr, name].
func decodeSlowLog(r Result) ([]SlowLogEntry, error) {
	v, err := r.typed()
	if err != nil {
		return nil, err
	}
	if !isList(v) {
		return nil, typeErr(v, "an array of slow log entries")
	}
	out := make([]SlowLogEntry, 0, len(v.Elems))
	for i, e := range v.Elems {
		if !isList(e) || len(e.Elems) < 4 || !isList(e.Elems[3]) {
			return nil, fmt.Errorf("redline: slow log entry %d is not [id, time, duration, args…]", i)
		}
		var s SlowLogEntry
		var ts, us int64
		if s.ID, err = valueInt(e.Elems[0]); err == nil {
			if ts, err = valueInt(e.Elems[1]); err == nil {
				us, err = valueInt(e.Elems[2])
			}
		}
		if err != nil {
			return nil, fmt.Errorf("redline: slow log entry %d: %w", i, err)
		}
		s.Time, s.Duration = time.Unix(ts, 0), time.Duration(us)*time.Microsecond
		s.Args = make([]string, len(e.Elems[3].Elems))
		for j, a := range e.Elems[3].Elems {
			if s.Args[j], err = valueText(a); err != nil {
				return nil, fmt.Errorf("redline: slow log entry %d: %w", i, err)
			}
		}
		if len(e.Elems) >= 6 {
			s.ClientAddr, _ = valueText(e.Elems[4])
			s.ClientName, _ = valueText(e.Elems[5])
		}
		out = append(out, s)
	}
	return out, nil
}

// decodeClientList decodes CLIENT LIST: a line per connection of name=value fields.
func decodeClientList(r Result) ([]ClientInfo, error) {
	text, err := r.Text()
	if err != nil {
		return nil, err
	}
	var out []ClientInfo
	for line := range strings.Lines(text) {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		ci := ClientInfo{Fields: map[string]string{}}
		for _, f := range strings.Fields(line) {
			k, v, ok := strings.Cut(f, "=")
			if !ok {
				return nil, fmt.Errorf("redline: CLIENT LIST field %q is not name=value", truncate(f, 64))
			}
			ci.Fields[k] = v
		}
		ints := map[string]*int64{"id": &ci.ID, "db": &ci.DB}
		for k, p := range ints {
			if s, ok := ci.Fields[k]; ok {
				if *p, err = strconv.ParseInt(s, 10, 64); err != nil {
					return nil, fmt.Errorf("redline: CLIENT LIST field %s=%q is not a number", k, truncate(s, 64))
				}
			}
		}
		for k, p := range map[string]*time.Duration{"age": &ci.Age, "idle": &ci.Idle} {
			if s, ok := ci.Fields[k]; ok {
				n, err := strconv.ParseInt(s, 10, 64)
				if err != nil {
					return nil, fmt.Errorf("redline: CLIENT LIST field %s=%q is not a number", k, truncate(s, 64))
				}
				*p = time.Duration(n) * time.Second
			}
		}
		ci.Addr, ci.LAddr, ci.Name, ci.User = ci.Fields["addr"], ci.Fields["laddr"], ci.Fields["name"], ci.Fields["user"]
		ci.Flags, ci.Cmd = ci.Fields["flags"], ci.Fields["cmd"]
		out = append(out, ci)
	}
	return out, nil
}

// decodeLatencyLatest decodes LATENCY LATEST: an array of [event, time, latest ms,
// max ms, …].
func decodeLatencyLatest(r Result) ([]LatencyEvent, error) {
	v, err := r.typed()
	if err != nil {
		return nil, err
	}
	if !isList(v) {
		return nil, typeErr(v, "an array of latency events")
	}
	out := make([]LatencyEvent, 0, len(v.Elems))
	for i, e := range v.Elems {
		if !isList(e) || len(e.Elems) < 4 {
			return nil, fmt.Errorf("redline: latency event %d is not [event, time, latest, max]", i)
		}
		var ev LatencyEvent
		var n [3]int64
		if ev.Name, err = valueText(e.Elems[0]); err == nil {
			for j := range n {
				if n[j], err = valueInt(e.Elems[1+j]); err != nil {
					break
				}
			}
		}
		if err != nil {
			return nil, fmt.Errorf("redline: latency event %d: %w", i, err)
		}
		ev.Time, ev.Latest, ev.Max = time.Unix(n[0], 0), time.Duration(n[1])*time.Millisecond, time.Duration(n[2])*time.Millisecond
		out = append(out, ev)
	}
	return out, nil
}

// decodeMemoryStats decodes MEMORY STATS: a map (RESP3) or flat array (RESP2) of
// field and value, where a value may be a map itself (db.0): nested names are joined
// with dots.
func decodeMemoryStats(r Result) (map[string]string, error) {
	v, err := r.typed()
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	if err := flattenStats(out, "", v, 0); err != nil {
		return nil, err
	}
	return out, nil
}

// maxStatsDepth bounds the nesting flattenStats follows (MEMORY STATS has two levels).
const maxStatsDepth = 4

func flattenStats(out map[string]string, prefix string, v resp.Value, depth int) error {
	if depth > maxStatsDepth {
		return fmt.Errorf("redline: MEMORY STATS nests deeper than %d", maxStatsDepth)
	}
	if v.Type != resp.TypeMap && !isList(v) || len(v.Elems)%2 != 0 {
		return typeErr(v, "a map of statistics")
	}
	for i := 0; i < len(v.Elems); i += 2 {
		k, err := valueText(v.Elems[i])
		if err != nil {
			return fmt.Errorf("redline: MEMORY STATS field name: %w", err)
		}
		name := prefix + k
		switch val := v.Elems[i+1]; {
		case val.Type == resp.TypeMap || isList(val):
			if err := flattenStats(out, name+".", val, depth+1); err != nil {
				return err
			}
		case val.IsNull():
			out[name] = ""
		default:
			if out[name], err = valueText(val); err != nil {
				return fmt.Errorf("redline: MEMORY STATS %s: %w", name, err)
			}
		}
	}
	return nil
}
