package hashslot

import (
	"bytes"
	"strings"
)

// Count is the number of hash slots in a Redis Cluster.
const Count = 16384

// slotMask reduces a CRC16 to a slot; Count is a power of two, so
// crc & slotMask == crc % Count.
const slotMask = Count - 1

// crcTable is the byte-wise lookup table for CRC16/XMODEM
// (polynomial 0x1021, MSB first).
var crcTable = makeTable(0x1021)

func makeTable(poly uint16) *[256]uint16 {
	var t [256]uint16
	for i := range t {
		crc := uint16(i) << 8
		for range 8 {
			if crc&0x8000 != 0 {
				crc = crc<<1 ^ poly
			} else {
				crc <<= 1
			}
		}
		t[i] = crc
	}
	return &t
}

// CRC16 returns the CRC16 of b using the XMODEM variant used by Redis
// Cluster: polynomial 0x1021, initial value 0, no input or output
// reflection and no final XOR. CRC16([]byte("123456789")) is 0x31C3.
func CRC16(b []byte) uint16 {
	var crc uint16
	for _, c := range b {
		crc = crc<<8 ^ crcTable[byte(crc>>8)^c]
	}
	return crc
}

// crc16String is CRC16 for a string, without converting it to a []byte.
func crc16String(s string) uint16 {
	var crc uint16
	for i := 0; i < len(s); i++ {
		crc = crc<<8 ^ crcTable[byte(crc>>8)^s[i]]
	}
	return crc
}

// Key returns the Redis Cluster hash slot, in [0, Count), of key, applying
// the hash-tag rule: when key contains a non-empty "{...}" section, only the
// bytes between the first '{' and the first '}' after it are hashed.
// It does not allocate.
func Key(key string) int {
	if s := strings.IndexByte(key, '{'); s >= 0 {
		if e := strings.IndexByte(key[s+1:], '}'); e > 0 {
			key = key[s+1 : s+1+e]
		}
	}
	return int(crc16String(key) & slotMask)
}

// KeyBytes is like [Key] but takes the key as a byte slice. It does not
// allocate and does not retain or modify key.
func KeyBytes(key []byte) int {
	if s := bytes.IndexByte(key, '{'); s >= 0 {
		if e := bytes.IndexByte(key[s+1:], '}'); e > 0 {
			key = key[s+1 : s+1+e]
		}
	}
	return int(CRC16(key) & slotMask)
}
