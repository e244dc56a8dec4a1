package command

import "strings"

// Info is what redline knows about one command or subcommand: one entry of the COMMAND
// reply. The Infos of the generated table and of [Parse] are shared and must not be
// modified.
type Info struct {
	// Name is the lower-case name; a subcommand's is "container|sub", such as "config|get".
	Name string
	// Arity is the number of arguments including the name (a subcommand's includes the
	// container's name too); negative means at least -Arity.
	Arity int
	// Flags are the command's flags.
	Flags Flags
	// Categories are the command's ACL categories.
	Categories Categories
	// ConnState says whether the command changes the state of the connection it is
	// sent on (see [ConnState]); computed from the categories and the name.
	ConnState ConnState
	// FirstKey, LastKey and Step are the legacy key positions: the first and last key's
	// positions (LastKey negative counts from the end, -1 is the last argument) and the
	// distance between keys; FirstKey 0 means no keys. KeySpecs are more precise; these
	// are used only for a command without key specs.
	FirstKey, LastKey, Step int
	// KeySpecs say where the keys are (Redis 7). See [Info.KeyIndexes].
	KeySpecs []KeySpec
	// Request is how a cluster client fans the command out.
	Request RequestPolicy
	// Response is how a cluster client merges the replies of a fanned out command.
	Response ResponsePolicy
	// Nondeterministic is set by the tips nondeterministic_output and
	// nondeterministic_output_order: two runs on the same data may reply differently, so a
	// command is not a candidate for caching or for comparing replicas' replies.
	Nondeterministic bool
	// Subcommands of a container command such as CONFIG, sorted by name; nil for a plain
	// command.
	Subcommands []*Info

	// keys selects a hand-written key finder for the few commands whose key specs Redis
	// itself does not trust (it uses its own getkeys function for them); see native.go.
	keys keyFinder
}

// Has reports whether all the flags in f are set.
func (i *Info) Has(f Flags) bool { return i.Flags&f == f }

// ReadOnly reports whether the command only reads: FlagReadOnly set and FlagWrite not set.
// A read-only command may be sent to a replica and retried after a lost reply.
func (i *Info) ReadOnly() bool { return i.Flags&(FlagReadOnly|FlagWrite) == FlagReadOnly }

// Subcommand returns the subcommand named name ("get" or "config|get", any case), or nil.
func (i *Info) Subcommand(name string) *Info {
	for _, s := range i.Subcommands {
		sub := s.Name[strings.IndexByte(s.Name, '|')+1:]
		if strings.EqualFold(name, sub) || strings.EqualFold(name, s.Name) {
			return s
		}
	}
	return nil
}

// String returns the name of the command.
func (i *Info) String() string { return i.Name }
