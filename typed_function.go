package redline

import (
	"time"

	"github.com/redline-go/redline/resp"
)

// This file holds the types, options and reply decoders of the function methods
// (FunctionList, FunctionStats) and the pub/sub introspection methods (PubSubNumSub) of
// issue 18 (commands_gen.go).

// FunctionListOptions are the options of FunctionList; nil lists every library,
// without its code.
type FunctionListOptions struct {
	// LibraryName lists only the libraries whose names match this glob pattern
	// (LIBRARYNAME); "" means all.
	LibraryName string
	// WithCode returns each library's source too (WITHCODE).
	WithCode bool
}

func (o *FunctionListOptions) appendArgs(args []any) []any {
	if o == nil {
		return args
	}
	if o.LibraryName != "" {
		args = append(args, "LIBRARYNAME", o.LibraryName)
	}
	return appendFlag(args, o.WithCode, "WITHCODE")
}

// FunctionLibrary is a library of functions as FUNCTION LIST describes it. Code is ""
// unless FunctionListOptions.WithCode asked for it.
type FunctionLibrary struct {
	Name      string
	Engine    string
	Functions []FunctionInfo
	Code      string
}

// FunctionInfo is one function of a library: its name, description ("" when none) and
// flags ("no-writes", "allow-oom"…).
type FunctionInfo struct {
	Name        string
	Description string
	Flags       []string
}

// FunctionStats is the reply of FUNCTION STATS: the function a node runs now (nil when
// none) and, per engine ("LUA"), how many libraries and functions are loaded.
type FunctionStats struct {
	Running *RunningFunction
	Engines map[string]FunctionEngineStats
}

// RunningFunction is the function a node is running: its name, the FCALL command that
// called it and how long it has run.
type RunningFunction struct {
	Name     string
	Command  []string
	Duration time.Duration
}

// FunctionEngineStats counts the libraries and functions of one engine.
type FunctionEngineStats struct {
	Libraries int64
	Functions int64
}

// forPairs calls fn for each name and value of a map reply (RESP3) or flat array (RESP2).
func forPairs(v resp.Value, what string, fn func(name string, val resp.Value) error) error {
	pairs, err := mapPairs(v, what)
	if err != nil {
		return err
	}
	for i := 0; i < len(pairs); i += 2 {
		name, err := valueText(pairs[i])
		if err != nil {
			return err
		}
		if err := fn(name, pairs[i+1]); err != nil {
			return err
		}
	}
	return nil
}

// textOr returns a string reply, or "" for a null.
func textOr(v resp.Value) (string, error) {
	if v.IsNull() {
		return "", nil
	}
	return valueText(v)
}

// decodeFunctionList returns FUNCTION LIST's array of libraries.
func decodeFunctionList(r Result) ([]FunctionLibrary, error) {
	v, err := r.typed()
	if err != nil {
		return nil, err
	}
	if !isList(v) {
		return nil, typeErr(v, "an array of libraries")
	}
	out := make([]FunctionLibrary, len(v.Elems))
	for i, e := range v.Elems {
		lib := &out[i]
		err := forPairs(e, "a library", func(name string, val resp.Value) (err error) {
			switch name {
			case "library_name":
				lib.Name, err = valueText(val)
			case "engine":
				lib.Engine, err = valueText(val)
			case "library_code":
				lib.Code, err = textOr(val)
			case "functions":
				lib.Functions, err = functionInfos(val)
			}
			return err
		})
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

func functionInfos(v resp.Value) ([]FunctionInfo, error) {
	if !isList(v) {
		return nil, typeErr(v, "an array of functions")
	}
	out := make([]FunctionInfo, len(v.Elems))
	for i, e := range v.Elems {
		f := &out[i]
		err := forPairs(e, "a function", func(name string, val resp.Value) (err error) {
			switch name {
			case "name":
				f.Name, err = valueText(val)
			case "description":
				f.Description, err = textOr(val)
			case "flags":
				f.Flags, err = (Result{val: val}).Strings()
			}
			return err
		})
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// decodeFunctionStats returns FUNCTION STATS's map.
func decodeFunctionStats(r Result) (FunctionStats, error) {
	v, err := r.typed()
	if err != nil {
		return FunctionStats{}, err
	}
	var s FunctionStats
	err = forPairs(v, "a FUNCTION STATS map", func(name string, val resp.Value) error {
		switch name {
		case "running_script":
			if val.IsNull() {
				return nil
			}
			s.Running = &RunningFunction{}
			return forPairs(val, "a running function", func(name string, val resp.Value) (err error) {
				switch name {
				case "name":
					s.Running.Name, err = valueText(val)
				case "command":
					s.Running.Command, err = (Result{val: val}).Strings()
				case "duration_ms":
					var ms int64
					ms, err = valueInt(val)
					s.Running.Duration = time.Duration(ms) * time.Millisecond
				}
				return err
			})
		case "engines":
			s.Engines = map[string]FunctionEngineStats{}
			return forPairs(val, "a map of engines", func(engine string, val resp.Value) error {
				var es FunctionEngineStats
				err := forPairs(val, "engine stats", func(name string, val resp.Value) (err error) {
					switch name {
					case "libraries_count":
						es.Libraries, err = valueInt(val)
					case "functions_count":
						es.Functions, err = valueInt(val)
					}
					return err
				})
				s.Engines[engine] = es
				return err
			})
		}
		return nil
	})
	if err != nil {
		return FunctionStats{}, err
	}
	return s, nil
}

// decodeCounts returns a flat name, count… array (PUBSUB NUMSUB, SHARDNUMSUB) or a
// map of counts as a map.
func decodeCounts(r Result) (map[string]int64, error) {
	v, err := r.typed()
	if err != nil {
		return nil, err
	}
	pairs, err := mapPairs(v, "name-count pairs")
	if err != nil {
		return nil, err
	}
	out := make(map[string]int64, len(pairs)/2)
	for i := 0; i < len(pairs); i += 2 {
		name, err := valueText(pairs[i])
		if err != nil {
			return nil, err
		}
		if out[name], err = valueInt(pairs[i+1]); err != nil {
			return nil, err
		}
	}
	return out, nil
}
