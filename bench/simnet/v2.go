package simnet

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"time"

	"github.com/btcsuite/btcd/v2transport"
)

// V2Kind is how a node answers a BIP324 v2 handshake. The v2 side is
// btcd's v2transport package, an implementation independent of the
// crawler's, so a bug in one cannot cancel out in the other. Every kind
// speaks v1 normally when the crawler comes back over v1.
type V2Kind uint8

// V2 kinds.
const (
	V2None      V2Kind = iota // v1 only, NODE_P2P_V2 not advertised: closes on a v2 key (bad magic), as Core v1 does
	V2Full                    // advertises NODE_P2P_V2 and speaks v2
	V2Drops                   // advertises NODE_P2P_V2 but closes on a v2 key
	V2Endless                 // v2 key, then garbage without a terminator, without end
	V2BadTag                  // a real v2 handshake whose version packet fails its tag
	V2Oversized               // a real v2 handshake, then a packet length over 4,000,013
	numV2Kinds
)

// V2HostileKinds are the broken v2 behaviours V2HostileShare is spread over.
var V2HostileKinds = []V2Kind{V2Drops, V2Endless, V2BadTag, V2Oversized}

var v2KindNames = [numV2Kinds]string{"v1-only", "v2", "v2-drops", "v2-endless-garbage", "v2-bad-tag", "v2-oversized"}

func (k V2Kind) String() string {
	if k < numV2Kinds {
		return v2KindNames[k]
	}
	return fmt.Sprintf("v2kind%d", uint8(k))
}

// ParseV2Kind reads the String form.
func ParseV2Kind(s string) (V2Kind, error) {
	for i, n := range v2KindNames {
		if n == strings.ToLower(s) {
			return V2Kind(i), nil
		}
	}
	return 0, fmt.Errorf("simnet: unknown v2 kind %q", s)
}

// MarshalText writes the kind name (JSON).
func (k V2Kind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// UnmarshalText reads a kind name (JSON).
func (k *V2Kind) UnmarshalText(b []byte) error {
	p, err := ParseV2Kind(string(b))
	*k = p
	return err
}

// Advertises reports whether the node's services carry NODE_P2P_V2.
func (k V2Kind) Advertises() bool { return k != V2None }

// V2Failure is the v2 failure a v2-first crawler records for the node
// (the record.V2Failure string): "" for a v2 node.
func (k V2Kind) V2Failure() []string {
	switch k {
	case V2Full:
		return []string{""}
	case V2Endless:
		return []string{"bad-terminator"}
	case V2BadTag:
		return []string{"bad-tag"}
	case V2Oversized:
		return []string{"oversized"}
	}
	return []string{"closed", "reset"} // a close on a v2 key reads as either
}

// DefaultV2Share is the `sim` command's share of v2 nodes: a 2026 Bitcoin
// Core discussion cites about 80 % of reachable nodes accepting BIP324.
// (A Config's zero share means no v2 nodes at all.)
const DefaultV2Share = 0.8

// nodeP2PV2 is the BIP324 service bit.
const nodeP2PV2 = 1 << 11

const saltV2 = 0x76 // 'v': apart from the identity salts

// v2Kind draws a node's kind: only classes that complete a handshake speak
// v2 at all. V2Share of them advertise it; V2HostileShare of those are
// broken, spread over V2HostileKinds.
func (l *layout) v2Kind(u uint32, c Class) V2Kind {
	if c != ClassReachable || l.cfg.V2Share <= 0 {
		return V2None
	}
	h := l.h(u, saltV2)
	if float64(h%1_000_000) >= l.cfg.V2Share*1_000_000 {
		return V2None
	}
	h = mix64(h)
	if float64(h%1_000_000) < l.cfg.V2HostileShare*1_000_000 {
		return V2HostileKinds[(h>>32)%uint64(len(V2HostileKinds))]
	}
	return V2Full
}

// applyV2 gives a node its v2 kind, with NODE_P2P_V2 in its services set
// to match (only when the network has v2 nodes: else every node is v1-only
// and keeps the services its software announces).
func (l *layout) applyV2(id *Identity) {
	if l.cfg.V2Share <= 0 {
		return
	}
	id.V2 = l.v2Kind(id.Index, id.Class)
	if id.V2.Advertises() {
		id.Services |= nodeP2PV2
	} else {
		id.Services &^= nodeP2PV2
	}
}

// v2Net is the network magic as btcd's v2transport wants it.
func (s *session) v2Net() v2transport.BitcoinNet {
	return v2transport.BitcoinNet(binary.LittleEndian.Uint32(s.n.cfg.Network.Magic[:]))
}

// startTransport reads the first bytes the crawler sends. v1 (the magic):
// the session goes on over v1. Anything else is a v2 key: a v2 node
// answers with v2 (and the session goes on over it), the others do what
// their kind does. done: the connection has ended.
func (s *session) startTransport() (done bool) {
	var first [4]byte
	s.c.SetReadDeadline(time.Now().Add(s.n.cfg.IdleTimeout))
	k, err := io.ReadFull(s.c, first[:])
	if err != nil {
		return true
	}
	replay := &prefixConn{Conn: s.c, prefix: first[:k]}
	if first == s.n.cfg.Network.Magic {
		s.c = replay
		return false
	}
	switch s.id.V2 {
	case V2None, V2Drops:
		// A v1 node: the v1 reader sees the bad header, closes as Core does
		// and counts it (a v2 opening, or another network's magic).
		s.c = replay
		return false
	case V2Endless:
		s.endlessGarbage()
		return true
	}
	peer := v2transport.NewPeer()
	rw := &flipWriter{Conn: replay}
	if s.id.V2 == V2BadTag {
		rw.flipWrite = 3 // key+garbage, terminator, version packet
	}
	peer.UseReadWriter(rw)
	garbage := int(s.n.lay.h(s.id.Index, saltV2+1) % 200)
	if err := peer.RespondV2Handshake(garbage, s.v2Net()); err != nil {
		return true
	}
	if err := peer.CompleteHandshake(false, nil, s.v2Net()); err != nil || s.id.V2 == V2BadTag {
		return true
	}
	if s.id.V2 == V2Oversized {
		// Only the length matters: the crawler must refuse it unread.
		s.c.SetWriteDeadline(time.Now().Add(writeTimeout))
		_, _, _ = peer.V2EncPacket(make([]byte, v2OversizedLen), nil, false)
		return true
	}
	s.c = &v2Conn{Conn: replay, peer: peer, magic: s.n.cfg.Network.Magic}
	return false
}

// v2OversizedLen is one byte over what a v2 packet may carry for a
// 4,000,000-byte payload with a long message type.
const v2OversizedLen = 1 + 12 + 4_000_000 + 1

// endlessGarbage sends a key-sized prefix and garbage until the crawler
// leaves (or 1 MiB, or the idle timeout): never a terminator.
func (s *session) endlessGarbage() {
	buf := make([]byte, 16<<10)
	for sent := 0; sent < 1<<20; sent += len(buf) {
		rand.Read(buf)
		if s.write(buf) != nil || !s.n.sleep(time.Millisecond) {
			return
		}
	}
}

// prefixConn replays bytes already read before reading the connection.
type prefixConn struct {
	net.Conn
	prefix []byte
}

func (p *prefixConn) Read(b []byte) (int, error) {
	if len(p.prefix) > 0 {
		n := copy(b, p.prefix)
		p.prefix = p.prefix[n:]
		return n, nil
	}
	return p.Conn.Read(b)
}

// flipWriter corrupts the last byte of its flipWrite-th write (0: never).
type flipWriter struct {
	net.Conn
	writes, flipWrite int
}

func (f *flipWriter) Write(b []byte) (int, error) {
	f.writes++
	f.Conn.SetWriteDeadline(time.Now().Add(writeTimeout))
	if f.writes == f.flipWrite && len(b) > 0 {
		b = bytes.Clone(b)
		b[len(b)-1] ^= 0x01
	}
	return f.Conn.Write(b)
}

// v2Conn lets the v1 session code run over v2: what it writes (whole v1
// frames) goes out as v2 packets, what the crawler sends in v2 packets
// reads as v1 frames. Encryption is btcd's; message types map with the
// simulator's own table of BIP324's short IDs.
type v2Conn struct {
	net.Conn
	peer  *v2transport.Peer
	magic [4]byte
	rbuf  []byte // v1 frames not read yet
	wbuf  []byte // a partial v1 frame written
}

var errV2Message = errors.New("simnet: crawler sent a malformed v2 message")

func (c *v2Conn) Read(b []byte) (int, error) {
	for len(c.rbuf) == 0 {
		pkt, err := c.peer.V2ReceivePacket(nil)
		if err != nil {
			return 0, err
		}
		cmd, payload, ok := v2Decode(pkt)
		if !ok {
			return 0, errV2Message
		}
		c.rbuf = appendFrame(c.rbuf[:0], c.magic, cmd, payload)
	}
	n := copy(b, c.rbuf)
	c.rbuf = c.rbuf[n:]
	return n, nil
}

func (c *v2Conn) Write(b []byte) (int, error) {
	c.wbuf = append(c.wbuf, b...)
	for len(c.wbuf) >= 24 {
		end := 24 + int(binary.LittleEndian.Uint32(c.wbuf[16:20]))
		if len(c.wbuf) < end {
			break
		}
		contents := v2Encode(nil, [12]byte(c.wbuf[4:16]), c.wbuf[24:end])
		c.Conn.SetWriteDeadline(time.Now().Add(writeTimeout))
		if _, _, err := c.peer.V2EncPacket(contents, nil, false); err != nil {
			return 0, err
		}
		c.wbuf = c.wbuf[end:]
	}
	return len(b), nil
}

// v2ShortIDs is BIP324's table of one-byte message types.
var v2ShortIDs = map[byte]string{1: "addr", 2: "block", 3: "blocktxn", 4: "cmpctblock", 5: "feefilter",
	6: "filteradd", 7: "filterclear", 8: "filterload", 9: "getblocks", 10: "getblocktxn", 11: "getdata",
	12: "getheaders", 13: "headers", 14: "inv", 15: "mempool", 16: "merkleblock", 17: "notfound",
	18: "ping", 19: "pong", 20: "sendcmpct", 21: "tx", 22: "getcfilters", 23: "cfilter",
	24: "getcfheaders", 25: "cfheaders", 26: "getcfcheckpt", 27: "cfcheckpt", 28: "addrv2"}

var v2IDByName = func() map[[12]byte]byte {
	m := map[[12]byte]byte{}
	for id, n := range v2ShortIDs {
		m[cmdField(n)] = id
	}
	return m
}()

func v2Encode(dst []byte, cmd [12]byte, payload []byte) []byte {
	if id, ok := v2IDByName[cmd]; ok {
		dst = append(dst, id)
	} else {
		dst = append(append(dst, 0), cmd[:]...)
	}
	return append(dst, payload...)
}

func v2Decode(pkt []byte) (cmd [12]byte, payload []byte, ok bool) {
	switch {
	case len(pkt) == 0:
		return cmd, nil, false
	case pkt[0] == 0:
		if len(pkt) < 13 {
			return cmd, nil, false
		}
		return [12]byte(pkt[1:13]), pkt[13:], true
	}
	n, ok := v2ShortIDs[pkt[0]]
	if !ok {
		return cmd, nil, false
	}
	return cmdField(n), pkt[1:], true
}
