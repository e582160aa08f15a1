package bip324

import (
	"bytes"
	"errors"
)

// CommandLen is the size of a long message type (the v1 command field).
const CommandLen = 12

// shortIDs are BIP324's one-byte message types; index 0 means a long type
// follows (12 bytes, NUL-padded ASCII, as in v1).
var shortIDs = [...]string{1: "addr", 2: "block", 3: "blocktxn", 4: "cmpctblock", 5: "feefilter",
	6: "filteradd", 7: "filterclear", 8: "filterload", 9: "getblocks", 10: "getblocktxn", 11: "getdata",
	12: "getheaders", 13: "headers", 14: "inv", 15: "mempool", 16: "merkleblock", 17: "notfound",
	18: "ping", 19: "pong", 20: "sendcmpct", 21: "tx", 22: "getcfilters", 23: "cfilter",
	24: "getcfheaders", 25: "cfheaders", 26: "getcfcheckpt", 27: "cfcheckpt", 28: "addrv2"}

// ErrBadMessage: a packet too short for its message type, or a short ID
// nobody assigned.
var ErrBadMessage = errors.New("bip324: malformed message type")

// ShortID returns the one-byte ID of a command name (0 if it has none).
func ShortID(name string) byte {
	for i, n := range shortIDs {
		if n == name && i > 0 {
			return byte(i)
		}
	}
	return 0
}

// AppendMessage appends the contents of an application packet: the short
// ID when the command has one, else 0 and the 12-byte command field; then
// the payload. name is the command field as in v1 (NUL-padded).
func AppendMessage(dst []byte, name [CommandLen]byte, payload []byte) []byte {
	n := bytes.IndexByte(name[:], 0)
	if n < 0 {
		n = CommandLen
	}
	if id := ShortID(string(name[:n])); id != 0 {
		dst = append(dst, id)
	} else {
		dst = append(dst, 0)
		dst = append(dst, name[:]...)
	}
	return append(dst, payload...)
}

// ParseMessage splits a packet's contents into the command field (as v1
// would carry it, NUL-padded) and the payload (aliasing contents).
func ParseMessage(contents []byte) (name [CommandLen]byte, payload []byte, err error) {
	if len(contents) == 0 {
		return name, nil, ErrBadMessage
	}
	id := contents[0]
	if id == 0 {
		if len(contents) < 1+CommandLen {
			return name, nil, ErrBadMessage
		}
		copy(name[:], contents[1:1+CommandLen])
		return name, contents[1+CommandLen:], nil
	}
	if int(id) >= len(shortIDs) {
		return name, nil, ErrBadMessage
	}
	copy(name[:], shortIDs[id])
	return name, contents[1:], nil
}
