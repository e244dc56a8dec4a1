package command

import "strconv"

// RequestPolicy says how a cluster client fans a command out, from the command's
// request_policy tip (Redis 7).
type RequestPolicy uint8

// The request policies. The zero value, PolicyDefault, is a command without the tip.
const (
	// PolicyDefault routes the command by its keys, all of which must be in one slot; a
	// keyless command goes to any node.
	PolicyDefault RequestPolicy = iota
	// PolicyAllNodes sends the command to every node, primaries and replicas
	// (request_policy:all_nodes), such as SCRIPT LOAD or CONFIG SET.
	PolicyAllNodes
	// PolicyAllShards sends the command to every primary (request_policy:all_shards), such
	// as DBSIZE, KEYS or FLUSHALL.
	PolicyAllShards
	// PolicyMultiShard splits the command by the slots of its keys and sends each part to
	// the primary of its slot (request_policy:multi_shard), such as MSET, MGET or DEL.
	PolicyMultiShard
	// PolicySpecial needs handling the table does not describe (request_policy:special),
	// such as SCAN. An unknown policy value is reported as PolicySpecial too.
	PolicySpecial
)

var requestNames = [...]string{"default", "all_nodes", "all_shards", "multi_shard", "special"}

var requestGoNames = [...]string{
	"PolicyDefault", "PolicyAllNodes", "PolicyAllShards", "PolicyMultiShard", "PolicySpecial",
}

// String returns the tip value of p, such as "all_shards", or "default".
func (p RequestPolicy) String() string {
	if int(p) < len(requestNames) {
		return requestNames[p]
	}
	return "RequestPolicy(" + strconv.Itoa(int(p)) + ")"
}

// GoString returns the name of the Go constant for p, such as "PolicyAllShards".
func (p RequestPolicy) GoString() string {
	if int(p) < len(requestGoNames) {
		return requestGoNames[p]
	}
	return "RequestPolicy(" + strconv.Itoa(int(p)) + ")"
}

// ResponsePolicy says how a cluster client merges the replies of a command sent to several
// nodes, from the command's response_policy tip (Redis 7).
type ResponsePolicy uint8

// The response policies. The zero value, ResponseDefault, is a command without the tip.
const (
	// ResponseDefault: a keyless command's replies are concatenated (arrays) or the one
	// reply is returned; a multi-key command's replies are reassembled in key order.
	ResponseDefault ResponsePolicy = iota
	// ResponseOneSucceeded returns the first success; an error only when all nodes failed
	// (response_policy:one_succeeded), such as SCRIPT KILL.
	ResponseOneSucceeded
	// ResponseAllSucceeded succeeds when all nodes succeeded, else returns an error
	// (response_policy:all_succeeded), such as FLUSHALL or SCRIPT LOAD.
	ResponseAllSucceeded
	// ResponseAggLogicalAnd ANDs the integer replies (response_policy:agg_logical_and),
	// such as SCRIPT EXISTS.
	ResponseAggLogicalAnd
	// ResponseAggLogicalOr ORs the integer replies (response_policy:agg_logical_or).
	ResponseAggLogicalOr
	// ResponseAggMin returns the smallest integer reply (response_policy:agg_min), such as
	// WAIT.
	ResponseAggMin
	// ResponseAggMax returns the largest integer reply (response_policy:agg_max).
	ResponseAggMax
	// ResponseAggSum returns the sum of the integer replies (response_policy:agg_sum), such
	// as DBSIZE.
	ResponseAggSum
	// ResponseSpecial needs handling the table does not describe (response_policy:special),
	// such as INFO or SCAN. An unknown policy value is reported as ResponseSpecial too.
	ResponseSpecial
)

var responseNames = [...]string{
	"default", "one_succeeded", "all_succeeded", "agg_logical_and", "agg_logical_or",
	"agg_min", "agg_max", "agg_sum", "special",
}

var responseGoNames = [...]string{
	"ResponseDefault", "ResponseOneSucceeded", "ResponseAllSucceeded", "ResponseAggLogicalAnd",
	"ResponseAggLogicalOr", "ResponseAggMin", "ResponseAggMax", "ResponseAggSum",
	"ResponseSpecial",
}

// String returns the tip value of p, such as "agg_sum", or "default".
func (p ResponsePolicy) String() string {
	if int(p) < len(responseNames) {
		return responseNames[p]
	}
	return "ResponsePolicy(" + strconv.Itoa(int(p)) + ")"
}

// GoString returns the name of the Go constant for p, such as "ResponseAggSum".
func (p ResponsePolicy) GoString() string {
	if int(p) < len(responseGoNames) {
		return responseGoNames[p]
	}
	return "ResponsePolicy(" + strconv.Itoa(int(p)) + ")"
}

// parseRequestPolicy maps a request_policy tip value to its policy; unknown values to
// PolicySpecial, so that a router never fans out a command it does not understand the
// usual way.
func parseRequestPolicy(v string) RequestPolicy {
	for i, n := range requestNames[1:] {
		if n == v {
			return RequestPolicy(i + 1)
		}
	}
	return PolicySpecial
}

// parseResponsePolicy maps a response_policy tip value to its policy; unknown values to
// ResponseSpecial.
func parseResponsePolicy(v string) ResponsePolicy {
	for i, n := range responseNames[1:] {
		if n == v {
			return ResponsePolicy(i + 1)
		}
	}
	return ResponseSpecial
}
