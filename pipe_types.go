package redline

// The values of the Futures whose Client method returns more than one value, and the
// decoders the generated Pipe methods (commands_gen.go) give their Futures.

// KeyValue is a key and a value: the reply of BLPop and BRPop in a Pipe.
type KeyValue struct {
	Key   string
	Value string
}

// KeyZ is a key and a member with its score: the reply of BZPopMin and BZPopMax in a
// Pipe.
type KeyZ struct {
	Key string
	Z   Z
}

// KeyValues is a key and values: the reply of LMPop and BLMPop in a Pipe.
type KeyValues struct {
	Key    string
	Values []string
}

// KeyZs is a key and members with their scores: the reply of ZMPop and BZMPop in a
// Pipe.
type KeyZs struct {
	Key string
	Zs  []Z
}

func decodeOKFuture(r Result) (struct{}, error) { return struct{}{}, decodeOK(r) }

func decodeResultFuture(r Result) (Result, error) { return r, r.Err() }

func decodeKeyValueFuture(r Result) (KeyValue, error) {
	k, v, err := decodeKeyValue(r)
	return KeyValue{Key: k, Value: v}, err
}

func decodeKeyZFuture(r Result) (KeyZ, error) {
	k, z, err := decodeKeyZ(r)
	return KeyZ{Key: k, Z: z}, err
}

func decodeKeyStringsFuture(r Result) (KeyValues, error) {
	k, vs, err := decodeKeyStrings(r)
	return KeyValues{Key: k, Values: vs}, err
}

func decodeKeyZsFuture(r Result) (KeyZs, error) {
	k, zs, err := decodeKeyZs(r)
	return KeyZs{Key: k, Zs: zs}, err
}
