package resp

// Discarding: once the owner of a Reader calls Discard in the middle of a value, the
// rest of that value is read by the functions below, which check the framing and the
// limits as ReadValue does but keep nothing, so an unwanted reply of any size costs no
// memory.

// skipElems consumes the last n elements of an aggregate at depth, keeping none.
func (r *Reader) skipElems(n int64, depth int) error {
	for ; n > 0; n-- {
		if err := r.skipValue(depth + 1); err != nil {
			return err
		}
	}
	return nil
}

// skipValue consumes one value at depth (with the attributes before it), keeping none.
func (r *Reader) skipValue(depth int) error {
	for {
		line, err := r.readLine(false)
		if err != nil {
			return err
		}
		typ, rest := Type(line[0]), line[1:]
		switch typ {
		case TypeSimpleString, TypeBigNumber, TypeError, TypeInteger, TypeNull, TypeBoolean, TypeDouble:
			return nil // a line, already consumed
		case TypeBulkString, TypeBulkError, TypeVerbatim:
			if typ == TypeBulkString && isNullLen(rest) {
				return nil
			}
			n, err := r.length(typ, rest, r.lim.MaxBulkLen)
			if err != nil {
				return err
			}
			return r.skipBytes(n)
		case TypeArray, TypeSet, TypePush, TypeMap, TypeAttribute:
			if typ == TypeArray && isNullLen(rest) {
				return nil
			}
			n, err := r.length(typ, rest, r.lim.MaxAggregateLen)
			if err != nil {
				return err
			}
			if depth >= r.lim.MaxDepth {
				return tooDeep(r.lim.MaxDepth)
			}
			if typ == TypeMap || typ == TypeAttribute {
				n *= 2
			}
			if err := r.skipElems(n, depth); err != nil {
				return err
			}
			if typ == TypeAttribute {
				continue // the value it annotates follows
			}
			return nil
		case ';', '.':
			return protoErr("streamed string chunk (type byte '%c') is not supported", byte(typ))
		default:
			return unexpectedType(byte(typ))
		}
	}
}
