package simnet

import (
	"bytes"
	"encoding/binary"
	"net"
	"net/netip"
	"time"

	"github.com/btcsuite/btcd/wire/v2"
)

// Commands as 12-byte wire fields.
func cmdField(name string) [12]byte {
	var f [12]byte
	copy(f[:], name)
	return f
}

var (
	cmdVersion    = cmdField("version")
	cmdVerack     = cmdField("verack")
	cmdSendAddrV2 = cmdField("sendaddrv2")
	cmdWtxidRelay = cmdField("wtxidrelay")
	cmdGetAddr    = cmdField("getaddr")
	cmdAddr       = cmdField("addr")
	cmdAddrV2     = cmdField("addrv2")
	cmdPing       = cmdField("ping")
	cmdPong       = cmdField("pong")
	cmdInv        = cmdField("inv")
	cmdSendCmpct  = cmdField("sendcmpct")
	cmdFeeFilter  = cmdField("feefilter")
)

// appendVersion appends a whole version message of id, as its software
// would send it to a peer at remote. Modern shapes (pver ≥ 70001) go
// through btcd's encoder; older shapes, which lack the relay byte (before
// BIP37, 70001) or the start height (before 209), are written by hand
// because btcd's encoder always writes the start height.
func appendVersion(dst []byte, magic [4]byte, id *Identity, remote netip.AddrPort, now time.Time) []byte {
	var payload []byte
	if id.ProtocolVersion >= wire.BIP0037Version {
		msg := wire.MsgVersion{
			ProtocolVersion: int32(id.ProtocolVersion),
			Services:        wire.ServiceFlag(id.Services),
			Timestamp:       time.Unix(now.Unix(), 0),
			AddrYou:         wire.NetAddress{IP: net.IP(remote.Addr().AsSlice()), Port: remote.Port(), Services: 0},
			AddrMe:          wire.NetAddress{IP: net.IPv6zero, Services: wire.ServiceFlag(id.Services)},
			Nonce:           id.Nonce,
			UserAgent:       id.UserAgent,
			LastBlock:       id.StartHeight,
			DisableRelayTx:  !id.Relay,
		}
		var b bytes.Buffer
		if err := msg.BtcEncode(&b, id.ProtocolVersion, wire.BaseEncoding); err == nil {
			payload = b.Bytes()
		}
	} else {
		payload = appendOldVersionPayload(nil, id, remote, now)
	}
	return appendFrame(dst, magic, cmdVersion, payload)
}

// appendOldVersionPayload writes the version payload of a pre-BIP37 node.
func appendOldVersionPayload(p []byte, id *Identity, remote netip.AddrPort, now time.Time) []byte {
	p = binary.LittleEndian.AppendUint32(p, id.ProtocolVersion)
	p = binary.LittleEndian.AppendUint64(p, id.Services)
	p = binary.LittleEndian.AppendUint64(p, uint64(now.Unix()))
	p = appendNetAddr(p, 0, remote) // addr_recv
	if id.ProtocolVersion >= 106 {
		p = appendNetAddr(p, id.Services, netip.AddrPortFrom(netip.IPv6Unspecified(), 0)) // addr_from
		p = binary.LittleEndian.AppendUint64(p, id.Nonce)
		p = appendVarString(p, id.UserAgent)
	}
	if id.ProtocolVersion >= 209 {
		p = binary.LittleEndian.AppendUint32(p, uint32(id.StartHeight))
	}
	return p
}

// appendNetAddr writes a version-message network address (no timestamp).
func appendNetAddr(p []byte, services uint64, ap netip.AddrPort) []byte {
	p = binary.LittleEndian.AppendUint64(p, services)
	ip := ap.Addr().As16() // IPv4 becomes IPv4-mapped
	p = append(p, ip[:]...)
	return binary.BigEndian.AppendUint16(p, ap.Port())
}

// appendVarInt writes a CompactSize. The simulator keeps its own encoders
// rather than calling codec's on purpose: the crawler decodes with codec, so a
// bug shared by both sides would cancel out in every end-to-end test. Modern
// version messages go through btcd's encoder, a third implementation.
func appendVarInt(p []byte, v uint64) []byte {
	switch {
	case v < 0xfd:
		return append(p, byte(v))
	case v <= 0xffff:
		return binary.LittleEndian.AppendUint16(append(p, 0xfd), uint16(v))
	case v <= 0xffffffff:
		return binary.LittleEndian.AppendUint32(append(p, 0xfe), uint32(v))
	}
	return binary.LittleEndian.AppendUint64(append(p, 0xff), v)
}

func appendVarString(p []byte, s string) []byte {
	return append(appendVarInt(p, uint64(len(s))), s...)
}

// gossipEntry is one address of a getaddr answer.
type gossipEntry struct {
	addr     Addr
	services uint64
	time     uint32
}

// appendAddrPayload writes an addr payload (pre-BIP155). Networks addr
// cannot carry (TorV3, I2P, CJDNS: Core's IsAddrV1Compatible) are left out.
// Entries carry a timestamp only from 31402 on (negotiated version).
func appendAddrPayload(p []byte, entries []gossipEntry, pver uint32) []byte {
	n := 0
	for i := range entries {
		if v1Compatible(entries[i].addr) {
			n++
		}
	}
	p = appendVarInt(p, uint64(n))
	for i := range entries {
		e := &entries[i]
		if !v1Compatible(e.addr) {
			continue
		}
		if pver >= wire.NetAddressTimeVersion {
			p = binary.LittleEndian.AppendUint32(p, e.time)
		}
		p = appendAddrV1(p, e.services, e.addr)
	}
	return p
}

// appendAddrV1 writes the untimed part of an addr entry: services, the
// 16-byte address (IPv4-mapped, OnionCat) and the big-endian port.
func appendAddrV1(p []byte, services uint64, a Addr) []byte {
	b, _ := a.v1Bytes()
	p = binary.LittleEndian.AppendUint64(p, services)
	p = append(p, b[:]...)
	return binary.BigEndian.AppendUint16(p, a.Port())
}

func v1Compatible(a Addr) bool {
	return a.Network() == NetIPv4 || a.Network() == NetIPv6
}

// appendAddrV2Payload writes a BIP155 addrv2 payload with every network.
// btcd's encoder cannot write I2P or CJDNS entries, hence by hand.
func appendAddrV2Payload(p []byte, entries []gossipEntry) []byte {
	p = appendVarInt(p, uint64(len(entries)))
	for i := range entries {
		e := &entries[i]
		p = binary.LittleEndian.AppendUint32(p, e.time)
		p = appendVarInt(p, e.services)
		p = append(p, byte(e.addr.Network()))
		raw := e.addr.Raw()
		p = appendVarInt(p, uint64(len(raw)))
		p = append(p, raw...)
		p = binary.BigEndian.AppendUint16(p, e.addr.Port())
	}
	return p
}

// Fixed frames, computed once per network.
type fixedFrames struct {
	verack, sendAddrV2, wtxidRelay, sendCmpct, feeFilter []byte
}

func newFixedFrames(magic [4]byte) *fixedFrames {
	cmpct := make([]byte, 9)
	cmpct[1] = 2 // announce=false, version 2
	fee := binary.LittleEndian.AppendUint64(nil, 1000)
	return &fixedFrames{
		verack:     appendFrame(nil, magic, cmdVerack, nil),
		sendAddrV2: appendFrame(nil, magic, cmdSendAddrV2, nil),
		wtxidRelay: appendFrame(nil, magic, cmdWtxidRelay, nil),
		sendCmpct:  appendFrame(nil, magic, cmdSendCmpct, cmpct),
		feeFilter:  appendFrame(nil, magic, cmdFeeFilter, fee),
	}
}
