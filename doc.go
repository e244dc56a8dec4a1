// Package redline is a Redis Cluster client that keeps its deadlines.
//
// Every call returns by its deadline — the earlier of the context's deadline and the
// client's command timeout — whatever the cluster is doing: nodes refusing
// connections, black-holed, hung, slow, resetting, presenting a bad certificate or
// killed. A node known to be down fails calls at once with the cause instead of
// burning their deadline, and healthy nodes keep full speed meanwhile. A failure says
// which node failed, in which phase and why: see NodeError and DeadlineError.
//
// The same Client serves a standalone server (detected, or Options.Shape) and a
// primary managed by Redis Sentinel (Options.Sentinel) under the same contract; see
// Shape, SentinelOptions and ParseURL.
//
// # Commands that change their connection's state
//
// Client.Do and Client.DoMulti send commands on one connection per node that all
// callers share, pipelined. A command that changes the state of its connection — what
// later replies on it mean, or whether they come at all — would change other callers'
// replies, so it is never sent there. Each such command is either run where it is safe
// or refused, unsent, with a *ConnStateError naming what to use instead:
//
//	MULTI, EXEC, DISCARD        Client.TxPipelined, Client.Watch with Tx.Exec, or
//	                            MULTI … EXEC (or DISCARD) within one DoMulti: run
//	                            atomically on a dedicated connection
//	WATCH, UNWATCH              Client.Watch (Tx.Do sends them on its connection); a
//	                            WATCH before MULTI … EXEC in one DoMulti runs with it
//	SUBSCRIBE, UNSUBSCRIBE      Client.Subscribe
//	PSUBSCRIBE, PUNSUBSCRIBE    Client.PSubscribe
//	SSUBSCRIBE, SUNSUBSCRIBE    Client.SSubscribe
//	MONITOR                     not supported (redis-cli MONITOR against one node)
//	HELLO                       Options.Protocol, Username, Password, ClientName
//	AUTH                        Options.Username and Options.Password
//	SELECT                      Options.DB (standalone servers; a cluster has only database 0)
//	READONLY, READWRITE         Options.ReadFrom
//	RESET                       not supported: redline sets its connections up itself
//	QUIT                        Client.Close
//	ASKING                      not needed: redline follows ASK redirects itself
//	CLIENT SETNAME              Options.ClientName
//	CLIENT REPLY                not supported: every reply is read
//	CLIENT TRACKING, CACHING    not supported (no client-side caching)
//	CLIENT NO-EVICT, NO-TOUCH,  not supported on shared connections; so is any CLIENT
//	  SETINFO                     subcommand the command table does not know
//	SCRIPT DEBUG                not supported (redis-cli --ldb)
//	SYNC, PSYNC, REPLCONF       not supported
//
// Tx.Exec and TxPipelined refuse all of them inside a transaction. Blocking commands
// (BLPOP, XREAD BLOCK, WAIT, …) change no state but hold their connection: Do and
// DoMulti run them on a dedicated connection. The rule is computed once per command
// from the ACL categories and flags of the server's COMMAND reply (@transaction) and a
// short list for the rest (internal/command/connstate.go); a test flags any command of
// @connection, @pubsub or @transaction that the list does not classify, and a
// @connection command it does not know (from a newer server) is refused.
//
// The layers below the client are usable on their own: package resp is the RESP2/RESP3
// codec, package hashslot maps keys to slots, and package redistest starts real
// redis-server clusters with a fault-injecting proxy in front of each node.
package redline
