package codec

// Command identifies a message type. Commands the crawler does not parse are
// still recognised by name (CmdInv, CmdTx, …) so that reports can count them;
// a command name nobody knows is CmdUnknown. Every command is skippable.
type Command uint8

// Commands. The order is part of no format: store names, not numbers.
const (
	CmdUnknown Command = iota
	CmdVersion
	CmdVerack
	CmdPing
	CmdPong
	CmdSendAddrV2
	CmdGetAddr
	CmdAddr
	CmdAddrV2
	CmdReject
	// Recognised, never parsed.
	CmdInv
	CmdGetData
	CmdNotFound
	CmdGetBlocks
	CmdGetHeaders
	CmdHeaders
	CmdBlock
	CmdTx
	CmdMempool
	CmdSendHeaders
	CmdFeeFilter
	CmdSendCmpct
	CmdCmpctBlock
	CmdGetBlockTxn
	CmdBlockTxn
	CmdWtxidRelay
	CmdSendTxRcncl
	CmdFilterLoad
	CmdFilterAdd
	CmdFilterClear
	CmdMerkleBlock
	CmdGetCFilters
	CmdCFilter
	CmdGetCFHeaders
	CmdCFHeaders
	CmdGetCFCheckpt
	CmdCFCheckpt
	CmdAlert
	numCommands
)

var commandNames = [numCommands]string{
	CmdUnknown: "", CmdVersion: "version", CmdVerack: "verack", CmdPing: "ping", CmdPong: "pong",
	CmdSendAddrV2: "sendaddrv2", CmdGetAddr: "getaddr", CmdAddr: "addr", CmdAddrV2: "addrv2",
	CmdReject: "reject", CmdInv: "inv", CmdGetData: "getdata", CmdNotFound: "notfound",
	CmdGetBlocks: "getblocks", CmdGetHeaders: "getheaders", CmdHeaders: "headers", CmdBlock: "block",
	CmdTx: "tx", CmdMempool: "mempool", CmdSendHeaders: "sendheaders", CmdFeeFilter: "feefilter",
	CmdSendCmpct: "sendcmpct", CmdCmpctBlock: "cmpctblock", CmdGetBlockTxn: "getblocktxn",
	CmdBlockTxn: "blocktxn", CmdWtxidRelay: "wtxidrelay", CmdSendTxRcncl: "sendtxrcncl",
	CmdFilterLoad: "filterload", CmdFilterAdd: "filteradd", CmdFilterClear: "filterclear",
	CmdMerkleBlock: "merkleblock", CmdGetCFilters: "getcfilters", CmdCFilter: "cfilter",
	CmdGetCFHeaders: "getcfheaders", CmdCFHeaders: "cfheaders", CmdGetCFCheckpt: "getcfcheckpt",
	CmdCFCheckpt: "cfcheckpt", CmdAlert: "alert",
}

// commandByName maps the 12-byte NUL-padded wire field to a Command.
var commandByName = func() map[[12]byte]Command {
	m := make(map[[12]byte]Command, numCommands)
	for c := Command(1); c < numCommands; c++ {
		var k [12]byte
		copy(k[:], commandNames[c])
		m[k] = c
	}
	return m
}()

// String returns the wire name ("version"), or "unknown".
func (c Command) String() string {
	if c == CmdUnknown || c >= numCommands {
		return "unknown"
	}
	return commandNames[c]
}

// CommandFromWire maps the 12-byte wire field to a Command (CmdUnknown if
// nobody knows it, including names that are not NUL-padded correctly).
func CommandFromWire(field [12]byte) Command { return commandByName[field] }

// CommandField returns the 12-byte NUL-padded wire field for c.
func CommandField(c Command) [12]byte {
	var k [12]byte
	copy(k[:], commandNames[c])
	return k
}

// Protocol version milestones (Bitcoin Core version.h).
const (
	// ProtocolAddrTime: from this version on, addr entries carry a timestamp.
	ProtocolAddrTime = 31402
	// ProtocolCurrent is what nodesweep announces (Core 22+, allows sendaddrv2).
	ProtocolCurrent = 70016
	// ProtocolSendAddrV2 is the first version that may send sendaddrv2 (BIP155).
	ProtocolSendAddrV2 = 70016
)

// Per-message caps. A frame longer than its command's cap is rejected from the
// header alone, before any payload byte is buffered.
const (
	MaxPayload       = 4_000_000 // Core's MAX_PROTOCOL_MESSAGE_LENGTH, for every command
	MaxUserAgent     = 256       // Core's MAX_SUBVERSION_LENGTH
	MaxAddrEntries   = 1000      // Core's MAX_ADDR_TO_SEND
	MaxAddrV2Address = 512       // BIP155: longer addresses make the message invalid
	// MaxVersionPayload: 4+8+8+26+26+8+(3+256)+4+1 = 344; the rest is slack for
	// future fields, which Core ignores and so do we.
	MaxVersionPayload = 1024
	// MaxAddrPayload: 3-byte count + 1000 × 30 bytes.
	MaxAddrPayload = 3 + MaxAddrEntries*30
	// MaxAddrV2Payload: 3-byte count + 1000 × (4 time + 9 services + 1 net + 3 len + 512 addr + 2 port).
	MaxAddrV2Payload = 3 + MaxAddrEntries*(4+9+1+3+MaxAddrV2Address+2)
	// MaxRejectPayload: message name, code, reason, 32-byte hash, with slack.
	MaxRejectPayload = 1024
	// MaxEmptyPayload caps messages that carry nothing (verack, getaddr, …)
	// or only a nonce (ping, pong): extra bytes are tolerated, as Core does.
	MaxEmptyPayload = 64
)

// MaxPayloadFor returns the largest payload accepted for c. Larger frames of
// known small messages are rejected outright; everything else is capped at
// MaxPayload and may be skipped without buffering.
func MaxPayloadFor(c Command) uint32 {
	switch c {
	case CmdVersion:
		return MaxVersionPayload
	case CmdVerack, CmdSendAddrV2, CmdGetAddr, CmdMempool, CmdSendHeaders, CmdWtxidRelay, CmdFilterClear:
		// Empty by definition, but Core never reads their payload, so a few
		// stray bytes do not break a handshake there; nor here.
		return MaxEmptyPayload
	case CmdPing, CmdPong:
		// Core reads the 8-byte nonce and ignores the rest.
		return MaxEmptyPayload
	case CmdAddr:
		return MaxAddrPayload
	case CmdAddrV2:
		return MaxAddrV2Payload
	case CmdReject:
		return MaxRejectPayload
	case CmdInv:
		return MaxInvPayload
	}
	return MaxPayload
}

// NetAddr is the 26-byte address inside a version message (no timestamp).
type NetAddr struct {
	Services uint64
	IP       [16]byte // as on the wire (IPv4-mapped for IPv4)
	Port     uint16
}

// Addr returns the address as an Addr (IPv4-mapped becomes IPv4).
func (n NetAddr) Addr() Addr {
	a, _ := NewAddr(NetIPv6, n.IP[:], n.Port)
	return a
}

// Version is a parsed `version` payload. Fields after AddrFrom are optional
// on the wire for old protocol versions (Core: nonce, user agent, start height
// and relay may each be absent); Has* says which were present.
type Version struct {
	Protocol    int32
	Services    uint64
	Timestamp   int64
	AddrRecv    NetAddr
	AddrFrom    NetAddr
	Nonce       uint64
	UserAgent   string // at most MaxUserAgent bytes, as sent (not necessarily UTF-8)
	StartHeight int32
	Relay       bool // true when absent, as Core assumes

	HasAddrFrom    bool
	HasNonce       bool
	HasUserAgent   bool
	HasStartHeight bool
	HasRelay       bool
}

// AddrEntry is one entry of an addr or addrv2 message. Services comes
// first so that the struct packs into 48 bytes, not 56: a crawl holds
// ~1,000 of them per answer, for every answer waiting to be handled.
type AddrEntry struct {
	Services uint64
	Time     uint32 // unix seconds; 0 when the message had no timestamps (pver < 31402)
	Addr     Addr
}

// Reject is a parsed (deprecated) `reject` payload.
type Reject struct {
	Message string
	Code    uint8
	Reason  string
	Hash    [32]byte // present for tx and block rejects
	HasHash bool
}
