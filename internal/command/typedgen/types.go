package typedgen

import (
	"fmt"
	"strings"
)

// argType is how a parameter of spec.txt becomes a Go parameter and command arguments.
type argType struct {
	goType   string // the Go parameter's type, without "..." for a variadic one
	variadic bool   // a Go variadic parameter: it goes last in the signature
	min      int    // the fewest command arguments it adds
	fixed    bool   // always exactly one argument: the call can pass it inline
	key      bool   // its arguments are keys
	// inline is the argument expression for a fixed type (%[1]s is the parameter).
	inline string
	// stmt appends the arguments to args (%[1]s is the parameter).
	stmt string
	// put, for a type that adds a bounded number of arguments, writes them into the
	// array a at index n, advancing n (%[1]s is the parameter): a method whose every
	// argument is fixed or has put builds its command in an array on its stack
	// (renderArray).
	put string
	// most is the most arguments a type with put adds.
	most int
	// synopsis shows the arguments in a doc comment (%[1]s is the parameter).
	synopsis string
	// sample is what the key check sends for the parameter (for each of two elements of a
	// variadic one): "K" for a key, "V" for any other argument, a number for itself.
	sample []string
	time   bool // the Go type needs package time
}

// argTypes is the vocabulary of spec.txt's parameter types.
var argTypes = map[string]argType{
	"key":     {goType: "string", min: 1, fixed: true, key: true, inline: "%[1]s", synopsis: "%[1]s", sample: []string{"K"}},
	"keys":    {goType: "string", variadic: true, min: 1, key: true, stmt: "args = appendStrings(args, %[1]s)", synopsis: "%[1]s...", sample: []string{"K"}},
	"str":     {goType: "string", min: 1, fixed: true, inline: "%[1]s", synopsis: "%[1]s", sample: []string{"V"}},
	"str?":    {goType: "string", stmt: "if %[1]s != \"\" {\nargs = append(args, %[1]s)\n}", put: "if %[1]s != \"\" {\na[n] = %[1]s\nn++\n}", most: 1, synopsis: "[%[1]s]", sample: []string{"V"}},
	"strs":    {goType: "string", variadic: true, min: 1, stmt: "args = appendStrings(args, %[1]s)", synopsis: "%[1]s...", sample: []string{"V"}},
	"strs?":   {goType: "string", variadic: true, stmt: "args = appendStrings(args, %[1]s)", synopsis: "[%[1]s...]", sample: []string{"V"}},
	"value":   {goType: "any", min: 1, fixed: true, inline: "%[1]s", synopsis: "%[1]s", sample: []string{"V"}},
	"values":  {goType: "any", variadic: true, min: 1, stmt: "args = append(args, %[1]s...)", synopsis: "%[1]s...", sample: []string{"V"}},
	"values?": {goType: "any", variadic: true, stmt: "args = append(args, %[1]s...)", synopsis: "[%[1]s...]", sample: []string{"V"}},
	"int":     {goType: "int64", min: 1, fixed: true, inline: "%[1]s", synopsis: "%[1]s", sample: []string{"1"}},
	"float":   {goType: "float64", min: 1, fixed: true, inline: "%[1]s", synopsis: "%[1]s", sample: []string{"1.5"}},
	"ms":      {goType: "time.Duration", min: 1, fixed: true, inline: "msArg(%[1]s)", synopsis: "%[1]s", sample: []string{"100"}, time: true},
	"timeout": {goType: "time.Duration", min: 1, fixed: true, inline: "timeoutArg(%[1]s)", synopsis: "%[1]s", sample: []string{"0.1"}, time: true},
	"ttl":     {goType: "time.Duration", min: 1, fixed: true, inline: "n", synopsis: "%[1]s", sample: []string{"10"}, time: true},
	"time":    {goType: "time.Time", min: 1, fixed: true, inline: "n", synopsis: "%[1]s", sample: []string{"1700000000"}, time: true},
	"side":    {goType: "ListSide", min: 1, fixed: true, inline: "string(%[1]s)", synopsis: "%[1]s", sample: []string{"LEFT"}},
	"numkeys": {goType: "[]string", min: 1, key: true, stmt: "args = appendNumKeys(args, %[1]s)", synopsis: "len(%[1]s) %[1]s...", sample: []string{"2", "K", "K"}},
	// numkeys+ is numkeys sending at least one key (ZUNION, ZMPOP…: arity counts one).
	"numkeys+": {goType: "[]string", min: 2, key: true, stmt: "args = appendNumKeys(args, %[1]s)", synopsis: "len(%[1]s) %[1]s...", sample: []string{"2", "K", "K"}},
	// zorder is ZMPOP's and BZMPOP's MIN or MAX.
	"zorder": {goType: "ZOrder", min: 1, fixed: true, inline: "string(%[1]s)", synopsis: "%[1]s", sample: []string{"MIN"}},
	// unixms is an absolute time sent in Unix milliseconds (PEXPIREAT, RESTORE ABSTTL).
	"unixms": {goType: "time.Time", min: 1, fixed: true, inline: "%[1]s.UnixMilli()", synopsis: "%[1]s", sample: []string{"1700000000000"}, time: true},
	// fieldvalues are a hash's fields; keyvalues are keys (MSET).
	"fieldvalues":  {goType: "map[string]any", min: 2, stmt: "args = appendFieldValues(args, %[1]s)", synopsis: "%[1]s...", sample: []string{"V", "V"}},
	"keyvalues":    {goType: "map[string]any", min: 2, key: true, stmt: "args = appendKeyValues(args, %[1]s)", synopsis: "%[1]s...", sample: []string{"K", "V", "K", "V"}},
	"zs":           {goType: "Z", variadic: true, min: 2, stmt: "args = appendZs(args, %[1]s)", synopsis: "%[1]s...", sample: []string{"1", "V"}},
	"geolocations": {goType: "GeoLocation", variadic: true, min: 3, stmt: "args = appendGeoLocations(args, %[1]s)", synopsis: "%[1]s...", sample: []string{"1.5", "1.5", "V"}},
	// numfields are a hash's fields after their count (HEXPIRE … FIELDS numfields
	// field…): ...string, at least one. (The key check's sample leaves the count out: no
	// key follows.)
	"numfields": {goType: "string", variadic: true, min: 2, stmt: "args = appendNumStrings(args, %[1]s)", synopsis: "len(%[1]s) %[1]s...", sample: []string{"V"}},
	// numfieldvalues are a hash's field-value pairs after the number of fields (HSETEX).
	"numfieldvalues": {goType: "map[string]any", min: 3, stmt: "args = appendNumFieldValues(args, %[1]s)", synopsis: "len(%[1]s) %[1]s...", sample: []string{"1", "V", "V"}},
	// cond? is EXPIRE's (and HEXPIRE's) condition, NX, XX, GT or LT; "" sends none.
	"cond?": {goType: "ExpireCondition", stmt: "if %[1]s != \"\" {\nargs = append(args, string(%[1]s))\n}", put: "if %[1]s != \"\" {\na[n] = string(%[1]s)\nn++\n}", most: 1, synopsis: "[%[1]s]", sample: []string{"NX"}},
}

// typeOf resolves a parameter type of spec.txt: a name of argTypes; flag=TOKEN, a bool
// that sends TOKEN when true; *Options, an optional struct (nil sends nothing); or
// Args[N], a required struct that sends at least N arguments. Structs send their
// arguments with their appendArgs method (hand-written in the root package).
func typeOf(s string) (argType, error) {
	if t, ok := argTypes[s]; ok {
		return t, nil
	}
	if tok, ok := strings.CutPrefix(s, "flag="); ok {
		if !isLiteral(tok) {
			return argType{}, fmt.Errorf("flag token %q is not an upper-case word", tok)
		}
		return argType{goType: "bool", stmt: "if %[1]s {\nargs = append(args, " + quote(tok) + ")\n}",
			put: "if %[1]s {\na[n] = " + quote(tok) + "\nn++\n}", most: 1,
			synopsis: "[" + tok + "]", sample: []string{tok}}, nil
	}
	if name, ok := strings.CutPrefix(s, "*"); ok && isIdent(name) {
		t := argType{goType: s, stmt: "args = %[1]s.appendArgs(args)", synopsis: "[%[1]s]"}
		if most := SmallOptions[name]; most > 0 {
			t.put = fmt.Sprintf("n += copy(a[n:], %%[1]s.appendArgs(make([]any, 0, %d)))", most)
			t.most = most
		}
		return t, nil
	}
	if name, n, ok := strings.Cut(s, "["); ok && isIdent(name) && strings.HasSuffix(n, "]") {
		var min int
		if _, err := fmt.Sscanf(n, "%d]", &min); err != nil || min < 0 {
			return argType{}, fmt.Errorf("struct type %q: want Name[N], N the fewest arguments it sends", s)
		}
		return argType{goType: name, min: min, stmt: "args = %[1]s.appendArgs(args)", synopsis: "%[1]s..."}, nil
	}
	return argType{}, fmt.Errorf("unknown parameter type %q", s)
}

// SmallOptions are the option structs that add at most so many arguments (every field
// set), by name: a method taking one builds its command in an array on its stack, so
// that its arguments (the key, the value) are not boxed on the heap. TestSmallOptions
// in the root package checks each bound.
var SmallOptions = map[string]int{
	"SetOptions":          7, // EX n | PX n, EXAT n | PXAT n, KEEPTTL, NX, XX
	"GetExOptions":        5, // EX n | PX n, EXAT n | PXAT n, PERSIST
	"LPosOptions":         4, // RANK n, MAXLEN n
	"ZRangeOptions":       6, // BYSCORE, BYLEX, REV, LIMIT offset count
	"RestoreOptions":      5, // REPLACE, IDLETIME n, FREQ n
	"LCSIdxOptions":       3, // MINMATCHLEN n, WITHMATCHLEN
	"FunctionListOptions": 3, // LIBRARYNAME name, WITHCODE
}

// isStruct reports whether t is an option or argument struct: its arguments, keys
// included, are known only at run time.
func (t argType) isStruct() bool { return t.sample == nil }

// retKind is how a spec.txt reply kind becomes the method's results.
type retKind struct {
	results string // the Go result list
	expr    string // the return expression; %[1]s is the Result of Do, %[2]s the ref
	ref     bool   // the kind names a variadic parameter (keyed:names)
	time    bool
}

var retKinds = map[string]retKind{
	"ok":             {results: "error", expr: "decodeOK(%[1]s)"},
	"string":         {results: "(string, error)", expr: "decodeText(%[1]s)"},
	"int":            {results: "(int64, error)", expr: "%[1]s.Int64()"},
	"float":          {results: "(float64, error)", expr: "%[1]s.Float64()"},
	"bool":           {results: "(bool, error)", expr: "%[1]s.Bool()"},
	"strings":        {results: "([]string, error)", expr: "%[1]s.Strings()"},
	"bools":          {results: "([]bool, error)", expr: "decodeBools(%[1]s)"},
	"map":            {results: "(map[string]string, error)", expr: "%[1]s.StringMap()"},
	"keyed":          {results: "(map[string]string, error)", expr: "decodeKeyed(%[1]s, %[2]s)", ref: true},
	"ttl-s":          {results: "(time.Duration, error)", expr: "decodeTTL(%[1]s, time.Second)", time: true},
	"ttl-ms":         {results: "(time.Duration, error)", expr: "decodeTTL(%[1]s, time.Millisecond)", time: true},
	"zs":             {results: "([]Z, error)", expr: "decodeZs(%[1]s)"},
	"keyvalue":       {results: "(key, value string, err error)", expr: "decodeKeyValue(%[1]s)"},
	"keyz":           {results: "(key string, z Z, err error)", expr: "decodeKeyZ(%[1]s)"},
	"xmessages":      {results: "([]XMessage, error)", expr: "decodeXMessages(%[1]s)"},
	"xstreams":       {results: "([]XStream, error)", expr: "decodeXStreams(%[1]s)"},
	"xpending":       {results: "(XPendingSummary, error)", expr: "decodeXPending(%[1]s)"},
	"geopos":         {results: "([]*GeoPos, error)", expr: "decodeGeoPos(%[1]s)"},
	"time":           {results: "(time.Time, error)", expr: "decodeTime(%[1]s)", time: true},
	"infomap":        {results: "(map[string]string, error)", expr: "decodeInfoMap(%[1]s)"},
	"result":         {results: "Result", expr: "%[1]s"},
	"ints":           {results: "([]int64, error)", expr: "%[1]s.Int64s()"},
	"intptrs":        {results: "([]*int64, error)", expr: "decodeIntPtrs(%[1]s)"},
	"strptrs":        {results: "([]*string, error)", expr: "decodeStrPtrs(%[1]s)"}, // nil for a null element (MGET)
	"floatptrs":      {results: "([]*float64, error)", expr: "decodeFloatPtrs(%[1]s)"},
	"unixtime-s":     {results: "(time.Time, error)", expr: "decodeExpireTime(%[1]s, time.Second)", time: true},
	"unixtime-ms":    {results: "(time.Time, error)", expr: "decodeExpireTime(%[1]s, time.Millisecond)", time: true},
	"seconds":        {results: "(time.Duration, error)", expr: "decodeSeconds(%[1]s)", time: true},
	"keystrings":     {results: "(key string, values []string, err error)", expr: "decodeKeyStrings(%[1]s)"},
	"pairs":          {results: "([]FieldValue, error)", expr: "decodeFieldValues(%[1]s)"},
	"lcsidx":         {results: "(LCSMatch, error)", expr: "decodeLCSIdx(%[1]s)"},
	"keyzs":          {results: "(key string, zs []Z, err error)", expr: "decodeKeyZs(%[1]s)"},
	"counts":         {results: "(map[string]int64, error)", expr: "decodeCounts(%[1]s)"},
	"xautoclaim":     {results: "(XAutoClaimResult, error)", expr: "decodeXAutoClaim(%[1]s)"},
	"xautoclaimids":  {results: "(XAutoClaimIDsResult, error)", expr: "decodeXAutoClaimIDs(%[1]s)"},
	"xpendingext":    {results: "([]XPendingEntry, error)", expr: "decodeXPendingExt(%[1]s)"},
	"xinfostream":    {results: "(XInfoStream, error)", expr: "decodeXInfoStream(%[1]s)"},
	"xinfofull":      {results: "(XInfoStreamFull, error)", expr: "decodeXInfoStreamFull(%[1]s)"},
	"xinfogroups":    {results: "([]XInfoGroup, error)", expr: "decodeXInfoGroups(%[1]s)"},
	"xinfoconsumers": {results: "([]XInfoConsumer, error)", expr: "decodeXInfoConsumers(%[1]s)"},
	"functionlist":   {results: "([]FunctionLibrary, error)", expr: "decodeFunctionList(%[1]s)"},
	"functionstats":  {results: "(FunctionStats, error)", expr: "decodeFunctionStats(%[1]s)"},
	// The operator commands' replies (typed_cluster.go, typed_acl.go, typed_command_info.go).
	"clusternodes": {results: "([]ClusterNodeInfo, error)", expr: "decodeClusterNodes(%[1]s)"},
	"clusterslots": {results: "([]ClusterSlotRange, error)", expr: "decodeClusterSlots(%[1]s)"},
	"acluser":      {results: "(ACLUser, error)", expr: "decodeACLUser(%[1]s)"},
	"acllog":       {results: "([]ACLLogEntry, error)", expr: "decodeACLLog(%[1]s)"},
	"commandinfos": {results: "(map[string]CommandInfo, error)", expr: "decodeCommandInfos(%[1]s)"},
	"commanddocs":  {results: "(map[string]CommandDoc, error)", expr: "decodeCommandDocs(%[1]s)"},
	"keyflags":     {results: "([]KeyFlags, error)", expr: "decodeKeyFlags(%[1]s)"},
	// fieldttls-s and fieldttls-ms are HTTL's and HPTTL's: one time.Duration per field,
	// NoExpiry or NoSuchField for a field without expiry or missing.
	"fieldttls-s":  {results: "([]time.Duration, error)", expr: "decodeFieldTTLs(%[1]s, time.Second)", time: true},
	"fieldttls-ms": {results: "([]time.Duration, error)", expr: "decodeFieldTTLs(%[1]s, time.Millisecond)", time: true},
}

// reserved are the names the generated bodies use for themselves.
var reserved = map[string]bool{"c": true, "ctx": true, "args": true, "cmd": true, "n": true, "ms": true}

func isLiteral(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if !('A' <= r && r <= 'Z' || '0' <= r && r <= '9' || r == '_' || r == '~' || r == '-') {
			return false
		}
	}
	return true
}

func isIdent(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		if !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || r == '_' || i > 0 && '0' <= r && r <= '9') {
			return false
		}
	}
	return true
}

func quote(s string) string { return fmt.Sprintf("%q", s) }

// apply fills the parameter's name into a template of argType.
func apply(tmpl, name string) string {
	if !strings.Contains(tmpl, "%") {
		return tmpl
	}
	return fmt.Sprintf(tmpl, name)
}
