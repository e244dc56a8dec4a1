package resp

import "strconv"

// Type is the type of a RESP value: the byte that starts it on the wire.
type Type byte

// The RESP2 and RESP3 types. RESP2 has only the first five; its null bulk string and null
// array decode as TypeNull.
const (
	TypeSimpleString Type = '+' // +OK
	TypeError        Type = '-' // -ERR message
	TypeInteger      Type = ':' // :42
	TypeBulkString   Type = '$' // $3 foo
	TypeArray        Type = '*' // *2 followed by two values
	TypeNull         Type = '_' // RESP3 null; also RESP2 $-1 and *-1
	TypeBoolean      Type = '#' // #t, #f
	TypeDouble       Type = ',' // ,1.5 ,inf ,-inf ,nan
	TypeBigNumber    Type = '(' // (3492890328409238509324850943850943825024385
	TypeBulkError    Type = '!' // !21 SYNTAX invalid syntax
	TypeVerbatim     Type = '=' // =15 txt:Some string
	TypeMap          Type = '%' // %2 followed by two key/value pairs
	TypeSet          Type = '~' // ~3 followed by three values
	TypeAttribute    Type = '|' // |1 followed by one key/value pair, then the value it describes
	TypePush         Type = '>' // >3 followed by three values (out-of-band data)
)

// String returns the name of t, such as "bulk-string", or "Type(0x78)" for an unknown type.
func (t Type) String() string {
	switch t {
	case TypeSimpleString:
		return "simple-string"
	case TypeError:
		return "error"
	case TypeInteger:
		return "integer"
	case TypeBulkString:
		return "bulk-string"
	case TypeArray:
		return "array"
	case TypeNull:
		return "null"
	case TypeBoolean:
		return "boolean"
	case TypeDouble:
		return "double"
	case TypeBigNumber:
		return "big-number"
	case TypeBulkError:
		return "bulk-error"
	case TypeVerbatim:
		return "verbatim-string"
	case TypeMap:
		return "map"
	case TypeSet:
		return "set"
	case TypeAttribute:
		return "attribute"
	case TypePush:
		return "push"
	}
	return "Type(0x" + strconv.FormatUint(uint64(t), 16) + ")"
}
