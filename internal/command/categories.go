package command

import "strings"

// Categories is a set of ACL categories, as COMMAND reports them in its seventh field
// ("@read", "@connection", …).
type Categories uint32

// The ACL categories of Redis 7. A category Redis reports that is not listed here is
// ignored.
const (
	CatKeyspace    Categories = 1 << iota // @keyspace
	CatRead                               // @read
	CatWrite                              // @write
	CatSet                                // @set
	CatSortedSet                          // @sortedset
	CatList                               // @list
	CatHash                               // @hash
	CatString                             // @string
	CatBitmap                             // @bitmap
	CatHyperLogLog                        // @hyperloglog
	CatGeo                                // @geo
	CatStream                             // @stream
	CatPubSub                             // @pubsub
	CatAdmin                              // @admin
	CatFast                               // @fast
	CatSlow                               // @slow
	CatBlocking                           // @blocking
	CatDangerous                          // @dangerous
	CatConnection                         // @connection
	CatTransaction                        // @transaction
	CatScripting                          // @scripting
)

// categoryNames lists the Redis name of every category (without the @), in bit order.
var categoryNames = [...]string{
	"keyspace", "read", "write", "set", "sortedset", "list", "hash", "string", "bitmap",
	"hyperloglog", "geo", "stream", "pubsub", "admin", "fast", "slow", "blocking",
	"dangerous", "connection", "transaction", "scripting",
}

// categoryGoNames lists the Go name of every category, in bit order, for the generator.
var categoryGoNames = [...]string{
	"CatKeyspace", "CatRead", "CatWrite", "CatSet", "CatSortedSet", "CatList", "CatHash",
	"CatString", "CatBitmap", "CatHyperLogLog", "CatGeo", "CatStream", "CatPubSub",
	"CatAdmin", "CatFast", "CatSlow", "CatBlocking", "CatDangerous", "CatConnection",
	"CatTransaction", "CatScripting",
}

// ParseCategory returns the category Redis names name ("@read" or "read",
// case-insensitive), or 0 when unknown.
func ParseCategory(name string) Categories {
	name = strings.TrimPrefix(name, "@")
	for i, n := range categoryNames {
		if strings.EqualFold(n, name) {
			return 1 << i
		}
	}
	return 0
}

// String returns the Redis names of the categories in c, separated by "|", such as
// "read|fast"; "0" for none.
func (c Categories) String() string { return bitString(uint64(c), categoryNames[:]) }

// GoString returns c as a Go expression, such as "CatRead | CatFast"; the generator
// writes it into the table.
func (c Categories) GoString() string {
	return bitGoString(uint64(c), categoryGoNames[:], "Categories")
}
