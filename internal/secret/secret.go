// Package secret holds a credential so that nothing prints it: redline.Secret is this
// package's Secret (the lower layers, which cannot import the root, hold passwords too).
package secret

import (
	"fmt"
	"log/slog"
)

// redacted is what every formatting of a non-empty Secret shows.
const redacted = "[redacted]"

// Secret is a password or another credential. Only Reveal returns its value: String,
// GoString, every fmt verb, slog, JSON and text encodings show "[redacted]" (an empty
// Secret shows as empty).
//
// The value is held behind a pointer on purpose. fmt cannot call the methods of a
// value reached through an unexported struct field, and prints such a value field by
// field: a string-based secret in a struct that keeps Options in an unexported field
// would be printed in clear. A pointer at that depth is printed as an address.
// The zero Secret is empty.
type Secret struct {
	v *string
}

// New returns a Secret holding s (empty for "").
func New(s string) Secret {
	if s == "" {
		return Secret{}
	}
	return Secret{v: &s}
}

// Reveal returns the secret's value, for the code that sends it to the server.
func (s Secret) Reveal() string {
	if s.v == nil {
		return ""
	}
	return *s.v
}

// IsZero reports whether the secret is empty.
func (s Secret) IsZero() bool { return s.v == nil || *s.v == "" }

func (s Secret) shown() string {
	if s.IsZero() {
		return ""
	}
	return redacted
}

// String returns "[redacted]" (or "" when empty).
func (s Secret) String() string { return s.shown() }

// GoString returns "[redacted]" quoted, for %#v.
func (s Secret) GoString() string { return fmt.Sprintf("%q", s.shown()) }

// Format shows "[redacted]" for every verb (%x, %q and %d included).
func (s Secret) Format(f fmt.State, verb rune) {
	switch verb {
	case 'q':
		fmt.Fprintf(f, "%q", s.shown())
	case 'v':
		if f.Flag('#') {
			f.Write([]byte(s.GoString()))
			return
		}
		f.Write([]byte(s.shown()))
	default:
		f.Write([]byte(s.shown()))
	}
}

// LogValue makes slog show "[redacted]".
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.shown()) }

// MarshalText returns "[redacted]" (or nothing when empty): encodings that use text
// (JSON map keys, XML, YAML libraries) never see the value.
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.shown()), nil }

// MarshalJSON returns "[redacted]" as a JSON string (or "" when empty).
func (s Secret) MarshalJSON() ([]byte, error) { return fmt.Appendf(nil, "%q", s.shown()), nil }

// UnmarshalText sets the secret from text, so that configuration files can hold it.
// (What it reads is never written back: MarshalText redacts.)
func (s *Secret) UnmarshalText(b []byte) error {
	*s = New(string(b))
	return nil
}

// Set sets the secret, making *Secret a flag.Value (the flag's default shows
// redacted in -help).
func (s *Secret) Set(v string) error {
	*s = New(v)
	return nil
}
