// Package redline is a Redis Cluster client that keeps its deadlines.
//
// Every call returns by its deadline — the earlier of the context's deadline and the
// client's command timeout — whatever the cluster is doing: nodes refusing
// connections, black-holed, hung, slow, resetting, presenting a bad certificate or
// killed. A node known to be down fails calls at once with the cause instead of
// burning their deadline, and healthy nodes keep full speed meanwhile. A failure says
// which node failed, in which phase and why: see NodeError and DeadlineError.
//
// The layers below the client are usable on their own: package resp is the RESP2/RESP3
// codec, package hashslot maps keys to slots, and package redistest starts real
// redis-server clusters with a fault-injecting proxy in front of each node.
package redline
