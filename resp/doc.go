// Package resp is the RESP2/RESP3 codec of redline, used in both directions.
//
// The client's connection layer encodes commands with [AppendCommand] or
// [AppendCommandStrings] and decodes replies with a [Reader]. In-memory fake servers and
// fuzzers use the same code the other way round: a [Reader] decodes the commands they
// receive (a command is an array of bulk strings) and [AppendValue], [AppendValueRESP2] or a
// [Writer] encode any reply, including malformed ones (via [Writer.Write]) for tests of
// hostile servers.
//
// The package has no network code, no contexts and no goroutines. Deadlines belong to the
// caller: a Reader blocks exactly as long as its io.Reader does.
//
// # Values
//
// A decoded value is a [Value]: a [Type] and the fields that type uses. Server error
// replies are values, not read errors: they have Type [TypeError] or [TypeBulkError] and
// their message parsed once into an [*Error] (code, and for MOVED/ASK the slot and address).
// Such values can appear anywhere, for example as elements of an EXEC reply.
//
// # RESP2 and RESP3
//
// The Reader accepts both protocol versions on the same stream; no mode switch is needed
// after HELLO. The RESP2 null bulk string ($-1) and null array (*-1) decode as [TypeNull],
// exactly like the RESP3 null (_), so callers test [Value.IsNull] whatever the protocol.
// RESP3 attributes (|) are never returned alone: they are attached to the [Value.Attrs] of
// the value that follows them. Push frames (>) are returned as values of [TypePush]; routing
// them away from command replies is the caller's job. The RESP3 streamed forms ($?, *?, ;
// and .) are rejected as unsupported: Redis never sends them. Inline commands ("PING\r\n"
// as typed into telnet) are not supported either.
//
// [AppendValue] writes a Value in RESP3 exactly as the Reader decodes it; [AppendValueRESP2]
// downgrades a RESP3 value for a RESP2 peer, the way Redis itself does.
//
// # Hostile input
//
// A Reader never panics, never recurses deeper than [Limits.MaxDepth] and never allocates
// memory out of proportion to the bytes it has actually read. Every length prefix is checked
// against [Limits] before anything is allocated, and even a length within the limits is
// trusted only as far as the bytes that arrive: the buffer of a bulk string starts at no
// more than 64 KiB and doubles only as bytes fill it, and the elements of an aggregate are
// collected on a reusable stack and copied into an exactly sized slice once they have all
// been decoded. So a server announcing "$400000000" or "*16000000" and then going silent
// costs at most 64 KiB, not 400 MB or 2 GB.
//
// Every violation returns an error matching [ErrProtocol] with errors.Is; a limit breach also
// matches [ErrTooLarge] or [ErrTooDeep]. The concrete type is [*ProtocolError]. I/O errors
// from the underlying reader pass through unchanged, except that an end of stream in the
// middle of a value is reported as io.ErrUnexpectedEOF; io.EOF means the stream ended cleanly
// between two values. After any error other than that clean io.EOF, the position of the
// Reader in the stream is undefined and the connection should be closed.
//
// A decoded value occupies about 120 bytes per element plus its strings, so a reply of many
// tiny elements (3 bytes each on the wire, like "_\r\n") grows roughly 40 times in memory,
// and briefly twice that while an aggregate's elements are copied out of the stack. The
// limits bound that too: an aggregate holds at most [Limits.MaxAggregateLen] elements, and
// a client that expects no large replies may lower it.
package resp
