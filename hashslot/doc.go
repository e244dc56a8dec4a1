// Package hashslot maps Redis Cluster keys to hash slots.
//
// Redis Cluster partitions the key space into [Count] (16384) slots. The slot
// of a key is CRC16(key) mod 16384, where CRC16 is the XMODEM variant
// (polynomial 0x1021, initial value 0, no reflection, no final XOR) described
// in the Redis Cluster specification.
//
// Hash tags are honoured exactly as Redis does in keyHashSlot (cluster.c): if
// the key contains a '{' and, after the first '{', a '}' with at least one
// byte between them, only the bytes between that first '{' and the first '}'
// following it are hashed. Otherwise (no '{', no closing '}', or an empty tag
// "{}") the whole key is hashed. This lets callers force related keys, such as
// "{user1000}.following" and "{user1000}.followers", into the same slot.
//
// All functions are allocation free and safe for concurrent use.
package hashslot
