package redline

import (
	"fmt"
	"strings"
	"time"

	"github.com/redline-go/redline/resp"
)

// The replies of ACL GETUSER and ACL LOG, typed. In a cluster every node keeps its own
// users and log: the …On methods (typed_ops_nodes.go) run them on chosen nodes.

// ACLUser is a user's rules, as ACL GETUSER describes them.
type ACLUser struct {
	// Flags are the user's flags: "on" or "off", "nopass", "allkeys", "allchannels"…
	Flags []string
	// Passwords are the SHA-256 hashes of the user's passwords, in hex.
	Passwords []string
	// Commands are the user's command rules: "+@all -debug".
	Commands string
	// Keys are the user's key patterns as rules: "~* %R~cache:*" ("" for none). Servers
	// before 7.0 list patterns alone; they are written here as "~pattern" rules.
	Keys string
	// Channels are the user's channel patterns as rules: "&*" (Redis 6.2+).
	Channels string
	// Selectors are the user's further rule sets (Redis 7.0+).
	Selectors []ACLSelector
}

// ACLSelector is one selector of an ACL user: a set of rules that applies on its own.
type ACLSelector struct {
	Commands, Keys, Channels string
}

// ACLLogEntry is one entry of a node's ACL log: a command, key, channel or AUTH that
// ACL denied, counted with its repetitions.
type ACLLogEntry struct {
	Count    int64  // how many times it happened (repetitions within 60 s are folded)
	Reason   string // "command", "key", "channel" or "auth"
	Context  string // "toplevel", "multi", "lua" or "module"
	Object   string // the command, key or channel denied ("AUTH" for auth)
	Username string // the user
	// Age is how long ago the entry was last updated.
	Age time.Duration
	// ClientInfo is the client's description, as a line of CLIENT LIST.
	ClientInfo string
	// EntryID, Created and LastUpdated identify the entry and date it (Redis 7.2+;
	// zero before).
	EntryID              int64
	Created, LastUpdated time.Time
}

// decodeACLUser decodes ACL GETUSER's map (a flat array in RESP2); Nil for no user.
func decodeACLUser(r Result) (ACLUser, error) {
	v, err := r.typed()
	if err != nil {
		return ACLUser{}, err
	}
	var u ACLUser
	err = forPairs(v, "an ACL user", func(name string, val resp.Value) (err error) {
		switch name {
		case "flags":
			u.Flags, err = textList(val)
		case "passwords":
			u.Passwords, err = textList(val)
		case "commands":
			u.Commands, err = valueText(val)
		case "keys":
			u.Keys, err = aclPatterns(val, "~")
		case "channels":
			u.Channels, err = aclPatterns(val, "&")
		case "selectors":
			if !isList(val) {
				return typeErr(val, "an array of selectors")
			}
			for _, sv := range val.Elems {
				var s ACLSelector
				err := forPairs(sv, "an ACL selector", func(name string, val resp.Value) (err error) {
					switch name {
					case "commands":
						s.Commands, err = valueText(val)
					case "keys":
						s.Keys, err = aclPatterns(val, "~")
					case "channels":
						s.Channels, err = aclPatterns(val, "&")
					}
					return err
				})
				if err != nil {
					return err
				}
				u.Selectors = append(u.Selectors, s)
			}
		}
		return err
	})
	if err != nil {
		return ACLUser{}, fmt.Errorf("redline: ACL GETUSER: %w", err)
	}
	return u, nil
}

// aclPatterns returns key or channel rules: Redis 7's string as it is, or older
// servers' array of patterns as rules ("~" or "&" before each).
func aclPatterns(v resp.Value, prefix string) (string, error) {
	if !isList(v) {
		return valueText(v)
	}
	ps, err := textList(v)
	if err != nil {
		return "", err
	}
	for i, p := range ps {
		ps[i] = prefix + p
	}
	return strings.Join(ps, " "), nil
}

// textList returns an array (or set) of strings.
func textList(v resp.Value) ([]string, error) {
	if !isList(v) {
		return nil, typeErr(v, "an array of strings")
	}
	out := make([]string, len(v.Elems))
	for i, e := range v.Elems {
		var err error
		if out[i], err = valueText(e); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// decodeACLLog decodes ACL LOG: an array of maps (flat arrays in RESP2).
func decodeACLLog(r Result) ([]ACLLogEntry, error) {
	v, err := r.typed()
	if err != nil {
		return nil, err
	}
	if !isList(v) {
		return nil, typeErr(v, "an array of ACL log entries")
	}
	out := make([]ACLLogEntry, len(v.Elems))
	for i, e := range v.Elems {
		en := &out[i]
		err := forPairs(e, "an ACL log entry", func(name string, val resp.Value) (err error) {
			switch name {
			case "count":
				en.Count, err = valueInt(val)
			case "reason":
				en.Reason, err = valueText(val)
			case "context":
				en.Context, err = valueText(val)
			case "object":
				en.Object, err = valueText(val)
			case "username":
				en.Username, err = valueText(val)
			case "age-seconds":
				var s float64
				s, err = Result{val: val}.Float64()
				if err == nil && !(s >= 0 && s <= 1e9) {
					err = fmt.Errorf("age %v s out of range", s)
				}
				en.Age = time.Duration(s * float64(time.Second))
			case "client-info":
				en.ClientInfo, err = valueText(val)
			case "entry-id":
				en.EntryID, err = valueInt(val)
			case "timestamp-created":
				var ms int64
				ms, err = valueInt(val)
				en.Created = unixMilliOrZero(ms)
			case "timestamp-last-updated":
				var ms int64
				ms, err = valueInt(val)
				en.LastUpdated = unixMilliOrZero(ms)
			}
			return err
		})
		if err != nil {
			return nil, fmt.Errorf("redline: ACL LOG entry %d: %w", i, err)
		}
	}
	return out, nil
}
