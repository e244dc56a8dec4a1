package command

// Routing predicates: the one statement of how a cluster client routes a command by
// its tips, read by the router, transactions and the typed-method generator alike.

// FansOut reports whether a cluster client sends the command to every primary or every
// node at once: its request tip is all_shards or all_nodes and its replies can be merged
// (a "special" response, like INFO's, is answered by one node instead). False for nil.
func (i *Info) FansOut() bool {
	return i != nil && (i.Request == PolicyAllShards || i.Request == PolicyAllNodes) &&
		i.Response != ResponseSpecial
}

// Splittable reports whether a cluster client splits the command by slot when its keys
// span several: a multi_shard command whose parts are independent, one of MGET, MSET,
// DEL, UNLINK, EXISTS and TOUCH (MSETNX, say, is all-or-nothing and is not split). False
// for nil.
func (i *Info) Splittable() bool {
	if i == nil || i.Request != PolicyMultiShard {
		return false
	}
	switch i.Name {
	case "mget", "mset", "del", "unlink", "exists", "touch":
		return true
	}
	return false
}
