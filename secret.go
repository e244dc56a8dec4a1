package redline

import "github.com/redline-go/redline/internal/secret"

// Secret holds a password (Options.Password). Only Reveal returns its value: String,
// GoString, every fmt verb, slog and the JSON and text encodings show "[redacted]" (an
// empty Secret shows as empty), and so does fmt printing a struct that keeps Options in
// an unexported field (the value sits behind a pointer, which fmt prints as an
// address there). *Secret is a flag.Value, and decodes from JSON or text, so
// configuration can set it. The zero Secret is empty; IsZero reports an empty one.
type Secret = secret.Secret

// NewSecret returns a Secret holding s.
func NewSecret(s string) Secret { return secret.New(s) }
