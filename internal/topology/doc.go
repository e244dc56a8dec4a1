// Package topology turns the topology replies of a Redis Cluster (CLUSTER SHARDS, and
// CLUSTER SLOTS for servers before 7.0) into an immutable [Table]: the shards, their nodes,
// and a flat array giving, for each of the 16,384 hash slots, the shard that serves it. A
// client builds a table from one or several nodes' replies ([Choose] picks the view most
// of them agree on), swaps it in atomically, and patches it on a MOVED redirection with
// [Table.WithMoved]. Routing a slot ([Table.Slot]) is one array index.
//
// # Replies
//
// [ParseShards] and [ParseSlots] accept the RESP3 form of a reply (maps) and the RESP2 form
// (the same maps as flat arrays of alternating keys and values), integers where Redis
// sends them and, for slots and ports, decimal strings too (early 7.0 releases sent the
// slots of CLUSTER SHARDS as strings). Unknown keys, and elements beyond those documented,
// are ignored, so that later servers can add fields.
//
// Redis 7.0.15 sends, for CLUSTER SHARDS, an array of shards, each a map with "slots"
// (start and end slots alternating, integers; empty for a shard serving no slot) and
// "nodes", each node a map of "id" (string), "port" (integer), "tls-port" (integer, only
// when TLS is configured), "ip" (string), "endpoint" (string), "hostname" (string, only
// when announced), "role" ("master" or "replica"), "replication-offset" (integer) and
// "health" ("online", "fail" or "loading"; the documentation says "failed"). For CLUSTER
// SLOTS it sends an array of [start, end, primary, replica...], each node [endpoint, port,
// id, metadata], metadata a map (RESP2: flat array) holding "hostname" and, when the
// endpoint is not the IP, "ip". Ranges of one primary are separate entries, not
// necessarily consecutive. The fixtures in testdata/ are replies recorded from Redis 7.0.15.
//
// # Addresses
//
// A node's address (Node.Addr) is its preferred endpoint, the one Redis chooses with
// cluster-preferred-endpoint-type (IP, hostname), and its client port. When the endpoint is
// unknown the node is reached at the host of the node that answered (the source argument):
// Redis sends "" (CLUSTER SHARDS, type unknown-endpoint; also a lone node that has not
// learned its own IP yet), "?" (type hostname, the node has announced none) or NULL
// (CLUSTER SLOTS, type unknown-endpoint) for that. With useTLS, ParseShards uses a node's
// "tls-port" when it is given and non-zero; CLUSTER SLOTS already answers a TLS
// connection with TLS ports. IPv6 hosts are bracketed ("[::1]:7000").
//
// # Validation
//
// A reply comes from a server that may be broken or hostile, so parsing is linear in the
// reply, never panics, and allocates only in proportion to the elements actually present.
// An endpoint must be a host name or an IP address; a port must be in 1..65535; slots in
// 0..16383 with start <= end; no slot may be listed twice, by one shard or two; the shape
// and types must be as above. What breaks the table is an error matching [ErrInvalid],
// naming the shard (or CLUSTER SLOTS entry) and node:
//
//	topology: shard 2, primary: node 127.0.0.1:99999: port out of range
//	topology: slot 100 served by both 10.0.0.1:7000 and 10.0.0.2:7000 (overlapping ranges)
//
// What can be left out is left out and reported by [Table.Skipped], without failing the
// reply: a replica without a usable address (port 0 or none: a node the cluster knows only
// by ID, or a TLS-only node asked for its plain port), and a shard serving no slot whose
// primary has no usable address or which has no primary. Two primaries at one address
// happen when a node restarts with a new ID: the shard serving no slot is left out. A
// primary without a usable address in a shard that serves slots is an error: those slots
// cannot be routed. A reply with no shard is [ErrNoShards].
//
// Nodes are kept whatever their health ("fail", "loading"): the client decides whether to
// use them. Slots served by no shard are allowed; [Table.Covered] counts the served ones.
package topology
