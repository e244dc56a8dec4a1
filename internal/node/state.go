package node

// State is a node's connection state.
type State uint8

// The states. A node starts Idle and dials lazily, on first use.
const (
	StateIdle       State = iota // never used yet
	StateConnecting              // a connection attempt is in flight; callers wait for it
	StateUp                      // the shared connection is up
	StateDown                    // the last attempt failed: calls fail fast; retried in the background
	StateClosed                  // closed by its owner
)

// String returns the state's name.
func (s State) String() string {
	switch s {
	case StateIdle:
		return "idle"
	case StateConnecting:
		return "connecting"
	case StateUp:
		return "up"
	case StateDown:
		return "down"
	case StateClosed:
		return "closed"
	}
	return "unknown"
}
