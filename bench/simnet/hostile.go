package simnet

import (
	"bytes"
	"encoding/binary"
	"time"
)

// Bounds on the endless behaviours, so that every connection ends by itself.
const (
	floodLimit    = 64 << 20 // bytes an inv flood sends at most
	floodChunk    = 64 << 10
	floodPause    = 5 * time.Millisecond // between chunks: ≤ ~13 MB/s per connection
	spamMessages  = 10
	claimedAddrs  = 50_000
	presentAddrs  = 10
	oversizedAddr = 600 // BIP155 caps an address at 512 bytes
)

// hostileHandshake runs the hostile kinds that replace the handshake
// entirely; true if it did (the connection is over), false if the kind
// misbehaves later and the normal handshake goes on.
func (s *session) hostileHandshake() bool {
	magic := s.n.cfg.Network.Magic
	b := s.outBuf()
	switch s.id.Class {
	case HostileWrongMagic:
		other := Testnet3.Magic
		if other == magic {
			other = Mainnet.Magic
		}
		b = appendVersion(b, other, &s.id, s.remote, time.Now())
		b = append(b, appendFrame(nil, other, cmdVerack, nil)...)
	case HostileBadChecksum:
		b = appendVersion(b, magic, &s.id, s.remote, time.Now())
		b[20] ^= 0xff // first checksum byte
	case HostileLengthMax, HostileLength4000001:
		length := uint32(0xFFFFFFFF)
		if s.id.Class == HostileLength4000001 {
			length = 4_000_001
		}
		b = append(b, magic[:]...)
		b = append(b, cmdVersion[:]...)
		b = binary.LittleEndian.AppendUint32(b, length)
		b = append(b, 0, 0, 0, 0)
		b = append(b, make([]byte, 100)...) // the start of a payload that never ends
	case HostileHugeUserAgent:
		b = appendFrame(b, magic, cmdVersion, hugeUserAgentPayload(&s.id, s))
	case HostileTruncatedVersion:
		p := binary.LittleEndian.AppendUint32(nil, s.id.ProtocolVersion)
		p = binary.LittleEndian.AppendUint64(p, s.id.Services)
		p = binary.LittleEndian.AppendUint64(p, uint64(time.Now().Unix()))[:20]
		b = appendFrame(b, magic, cmdVersion, p)
	case HostileVersionThenSilence:
		b = appendVersion(b, magic, &s.id, s.remote, time.Now())
		s.sentVersion = true
		s.n.st.handshakes.Add(1)
	case HostileCloseMidMessage:
		b = appendVersion(b, magic, &s.id, s.remote, time.Now())
		s.send(b[:len(b)/2])
		return true // closes now
	default:
		return false
	}
	if s.send(b) == nil {
		s.listen() // then silence until the crawler gives up
	}
	return true
}

// hugeUserAgentPayload is a version whose user agent var-string claims
// 2^32 bytes (btcd wire would allocate 32 MiB before noticing); the frame
// itself is small and well formed.
func hugeUserAgentPayload(id *Identity, s *session) []byte {
	p := binary.LittleEndian.AppendUint32(nil, id.ProtocolVersion)
	p = binary.LittleEndian.AppendUint64(p, id.Services)
	p = binary.LittleEndian.AppendUint64(p, uint64(time.Now().Unix()))
	p = appendNetAddr(p, 0, s.remote)
	p = appendNetAddr(p, id.Services, s.remote)
	p = binary.LittleEndian.AppendUint64(p, id.Nonce)
	p = append(p, 0xff)
	p = binary.LittleEndian.AppendUint64(p, 1<<32)
	return append(p, "/Satoshi:27.0.0/"...)
}

// flood sends inv and unknown-command messages until the crawler leaves,
// the network closes or floodLimit bytes are out.
func (s *session) flood() {
	magic := s.n.cfg.Network.Magic
	inv := appendVarInt(nil, 50)
	r := s.n.lay.h(s.id.Index, saltGossip+77)
	for i := 0; i < 50; i++ {
		inv = binary.LittleEndian.AppendUint32(inv, 1) // MSG_TX
		for k := 0; k < 4; k++ {
			r = mix64(r)
			inv = binary.LittleEndian.AppendUint64(inv, r)
		}
	}
	unknown := cmdField("nodesweep?!")
	chunk := make([]byte, 0, floodChunk+4096)
	for len(chunk) < floodChunk {
		chunk = appendFrame(chunk, magic, cmdInv, inv)
		chunk = appendFrame(chunk, magic, unknown, inv[:100])
	}
	for sent := 0; sent < floodLimit; sent += len(chunk) {
		if s.write(chunk) != nil || !s.n.sleep(floodPause) {
			return
		}
	}
}

// hostileAddr answers getaddr the way the address-abusing kinds do.
func (s *session) hostileAddr() error {
	magic := s.n.cfg.Network.Magic
	now := uint32(time.Now().Unix())
	l := s.n.lay
	b := s.outBuf()
	switch s.id.Class {
	case HostileAddrSpam:
		// 10 × 1000 real addresses of the network (nothing outside it).
		r := l.h(s.id.Index, saltGossip+99)
		for m := 0; m < spamMessages; m++ {
			at := len(b)
			b = appendFrame(b, magic, cmdAddr, nil)
			b = appendVarInt(b, maxAddrPerMsg)
			for i := 0; i < maxAddrPerMsg; i++ {
				r = mix64(r)
				u := uint32(r % uint64(l.v1)) // addr carries no CJDNS
				id := l.identity(u)
				b = binary.LittleEndian.AppendUint32(b, now)
				b = appendAddrV1(b, id.Services, id.Addr)
			}
			b = fixFrame(b, at)
		}
	case HostileAddrClaim50k:
		at := len(b)
		b = appendFrame(b, magic, cmdAddr, nil)
		b = appendVarInt(b, claimedAddrs)
		for i := uint32(0); i < presentAddrs; i++ {
			id := l.identity((s.id.Index + 1 + i) % l.v1)
			b = binary.LittleEndian.AppendUint32(b, now)
			b = appendAddrV1(b, id.Services, id.Addr)
		}
		b = fixFrame(b, at)
	case HostileAddrV2Bad:
		// Unknown network IDs (skippable by BIP155) and an oversized
		// address (not skippable: BIP155 says disconnect), around one
		// genuine entry. Bodies and ports are 0x7f bytes, so a crawler that
		// misaligns on them reads loopback addresses, not public ones.
		at := len(b)
		b = appendFrame(b, magic, cmdAddrV2, nil)
		b = appendVarInt(b, 4)
		for _, e := range []struct {
			net  byte
			size int
		}{{42, 20}, {1, 4}, {200, 32}, {4, oversizedAddr}} {
			b = binary.LittleEndian.AppendUint32(b, now)
			b = appendVarInt(b, 1033)
			b = append(b, e.net)
			b = appendVarInt(b, uint64(e.size))
			if e.net == 1 { // a real address of the network
				id := l.identity((s.id.Index + 1) % l.v4)
				b = append(b, id.Addr.Raw()...)
				b = binary.BigEndian.AppendUint16(b, id.Addr.Port())
				continue
			}
			b = append(b, bytes.Repeat([]byte{0x7f}, e.size)...)
			b = binary.BigEndian.AppendUint16(b, 0x7f7f)
		}
		b = fixFrame(b, at)
	}
	s.n.st.getaddrs.Add(1)
	return s.send(b)
}
