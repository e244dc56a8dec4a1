package redline

import "time"

// This file holds the value types of the typed command methods (commands_gen.go). Their
// option structs are in typed_options.go, their reply decoders in typed_decode.go.

// NoExpiry is what TTL and PTTL return for a key that exists but has no expiry (the
// server's -1). A missing key is reported as the error Nil instead (the server's -2).
const NoExpiry time.Duration = -1

// Z is a member of a sorted set with its score.
type Z struct {
	Score  float64
	Member string
}

// ListSide names an end of a list for LMove and BLMove.
type ListSide string

// The ends of a list.
const (
	Left  ListSide = "LEFT"
	Right ListSide = "RIGHT"
)

// XMessage is one entry of a stream: its ID and its field-value pairs. Values is nil for
// an entry deleted while it was pending (XREADGROUP of a consumer's history).
type XMessage struct {
	ID     string
	Values map[string]string
}

// XStream is the entries XRead and XReadGroup returned from one stream.
type XStream struct {
	Stream   string
	Messages []XMessage
}

// XPendingSummary is the summary form of XPENDING: how many entries of a consumer group
// are pending (delivered, not acknowledged), the smallest and greatest of their IDs ("" when
// none is pending) and how many each consumer holds.
type XPendingSummary struct {
	Count     int64
	Lower     string
	Higher    string
	Consumers map[string]int64
}

// GeoLocation is a named point for GeoAdd.
type GeoLocation struct {
	Name      string
	Longitude float64
	Latitude  float64
}

// GeoPos is the position of a member of a geospatial index.
type GeoPos struct {
	Longitude float64
	Latitude  float64
}
