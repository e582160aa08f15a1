package simnet

import (
	"bytes"
	"encoding/binary"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/btcsuite/btcd/wire/v2"
)

// goodVersion is the version a correct crawler sends to id, built with btcd
// wire (not the simulator's encoder).
func goodVersion(id Identity) *wire.MsgVersion {
	ap, _ := id.Addr.AddrPort()
	you := wire.NewNetAddressIPPort(net.IP(ap.Addr().AsSlice()), ap.Port(), 0)
	me := wire.NewNetAddressIPPort(net.IPv6zero, 0, 0)
	v := wire.NewMsgVersion(me, you, 0x1234_5678_9abc_def0, 0)
	v.UserAgent = "/checker:0.1/"
	v.DisableRelayTx = true
	return v
}

// rawMessage frames msg with btcd wire, then lets edit change the bytes.
func rawMessage(t *testing.T, n *Network, msg wire.Message, edit func([]byte)) []byte {
	t.Helper()
	var b bytes.Buffer
	if _, err := wire.WriteMessageN(&b, msg, wire.ProtocolVersion, btcnet(n)); err != nil {
		t.Fatal(err)
	}
	if edit != nil {
		edit(b.Bytes())
	}
	return b.Bytes()
}

// The simulator checks every message a crawler sends: a correct
// conversation (getaddr right after our own verack, before the node's
// verack, as Core allows) counts nothing; each breach counts one violation
// with a description that names it.
func TestCrawlerChecks(t *testing.T) {
	n := startNet(t, smallHealthy())
	seed := n.Seeds()[0]
	id, _ := n.Lookup(seed)
	ver := func(edit func(*wire.MsgVersion)) wire.Message {
		v := goodVersion(id)
		if edit != nil {
			edit(v)
		}
		return v
	}
	cases := []struct {
		name string
		send func() [][]byte
		want string // "" = no violation
	}{
		{"correct", func() [][]byte {
			return [][]byte{rawMessage(t, n, ver(nil), nil), rawMessage(t, n, wire.NewMsgSendAddrV2(), nil),
				rawMessage(t, n, wire.NewMsgVerAck(), nil), rawMessage(t, n, wire.NewMsgGetAddr(), nil)}
		}, ""},
		{"bad checksum", func() [][]byte {
			return [][]byte{rawMessage(t, n, ver(nil), func(b []byte) { b[20] ^= 1 })}
		}, "bad checksum"},
		{"relay asked", func() [][]byte {
			return [][]byte{rawMessage(t, n, ver(func(v *wire.MsgVersion) { v.DisableRelayTx = false }), nil)}
		}, "relay 1"},
		{"no user agent slashes", func() [][]byte {
			return [][]byte{rawMessage(t, n, ver(func(v *wire.MsgVersion) { v.UserAgent = "checker" }), nil)}
		}, "user agent"},
		{"wrong addr_recv", func() [][]byte {
			return [][]byte{rawMessage(t, n, ver(func(v *wire.MsgVersion) { v.AddrYou.Port++ }), nil)}
		}, "addr_recv"},
		{"nonce zero", func() [][]byte {
			return [][]byte{rawMessage(t, n, ver(func(v *wire.MsgVersion) { v.Nonce = 0 }), nil)}
		}, "nonce 0"},
		{"stale timestamp", func() [][]byte {
			return [][]byte{rawMessage(t, n, ver(func(v *wire.MsgVersion) { v.Timestamp = time.Unix(1e9, 0) }), nil)}
		}, "timestamp"},
		{"trailing byte", func() [][]byte {
			b := rawMessage(t, n, ver(nil), nil)
			b = append(b, 0)
			binary.LittleEndian.PutUint32(b[16:], binary.LittleEndian.Uint32(b[16:])+1)
			sum := checksum(b[24:])
			copy(b[20:], sum[:])
			return [][]byte{b}
		}, "after the user agent"},
		{"getaddr before verack", func() [][]byte {
			return [][]byte{rawMessage(t, n, ver(nil), nil), rawMessage(t, n, wire.NewMsgGetAddr(), nil),
				rawMessage(t, n, wire.NewMsgVerAck(), nil)}
		}, "getaddr before verack"},
		{"sendaddrv2 after verack", func() [][]byte {
			return [][]byte{rawMessage(t, n, ver(nil), nil), rawMessage(t, n, wire.NewMsgVerAck(), nil),
				rawMessage(t, n, wire.NewMsgSendAddrV2(), nil)}
		}, "sendaddrv2 after verack"},
		{"message before version", func() [][]byte {
			return [][]byte{rawMessage(t, n, wire.NewMsgVerAck(), nil), rawMessage(t, n, ver(nil), nil)}
		}, "message before version"},
		{"second getaddr", func() [][]byte {
			return [][]byte{rawMessage(t, n, ver(nil), nil), rawMessage(t, n, wire.NewMsgVerAck(), nil),
				rawMessage(t, n, wire.NewMsgGetAddr(), nil), rawMessage(t, n, wire.NewMsgGetAddr(), nil)}
		}, "second getaddr"},
		{"a command never allowed", func() [][]byte {
			return [][]byte{rawMessage(t, n, ver(nil), nil), rawMessage(t, n, wire.NewMsgMemPool(), nil)}
		}, "unexpected command"},
		{"pong without ping", func() [][]byte {
			return [][]byte{rawMessage(t, n, ver(nil), nil), rawMessage(t, n, wire.NewMsgPong(7), nil)}
		}, "pong without a ping"},
	}
	for _, c := range cases {
		before := n.Stats().Violations
		conn, err := dialAddr(t, seed, time.Second)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range c.send() {
			if _, err := conn.Write(m); err != nil {
				t.Fatal(err)
			}
		}
		// Read until the node has answered (the latency of a healthy node is 0).
		readRaw(conn, 300*time.Millisecond, 1<<20)
		conn.Close()
		for deadline := time.Now().Add(2 * time.Second); n.Stats().Active > 0 && time.Now().Before(deadline); {
			time.Sleep(5 * time.Millisecond)
		}
		got := n.Stats().Violations - before
		all := n.Violations()
		last := ""
		if len(all) > 0 {
			last = all[len(all)-1]
		}
		switch {
		case c.want == "" && got != 0:
			t.Errorf("%s: %d violations: %s", c.name, got, last)
		case c.want != "" && (got != 1 || !strings.Contains(last, c.want)):
			t.Errorf("%s: %d violations, last %q; want one naming %q", c.name, got, last, c.want)
		}
	}
}

// A pong answering the node's ping is fine; one with another nonce is not.
func TestCrawlerCheckPong(t *testing.T) {
	n := startNet(t, smallHealthy())
	seed := n.Seeds()[0]
	id, _ := n.Lookup(seed)
	for _, wrong := range []bool{false, true} {
		before := n.Stats().Violations
		c, err := dialAddr(t, seed, time.Second)
		if err != nil {
			t.Fatal(err)
		}
		w := &wireClient{t: t, c: c, net: btcnet(n)}
		w.send(goodVersion(id))
		w.send(wire.NewMsgVerAck())
		for {
			msg, err := w.next(2 * time.Second)
			if err != nil {
				t.Fatal(err)
			}
			if p, ok := msg.(*wire.MsgPing); ok {
				if wrong {
					p.Nonce++
				}
				w.send(wire.NewMsgPong(p.Nonce))
				break
			}
		}
		time.Sleep(100 * time.Millisecond)
		c.Close()
		for deadline := time.Now().Add(2 * time.Second); n.Stats().Active > 0 && time.Now().Before(deadline); {
			time.Sleep(5 * time.Millisecond)
		}
		if got := n.Stats().Violations - before; got != map[bool]int64{false: 0, true: 1}[wrong] {
			t.Errorf("wrong nonce %v: %d violations %q", wrong, got, n.Violations())
		}
	}
}

// A connection opening with bytes that are no v1 message (a BIP324 v2
// handshake to a v1-only node) is closed as Core closes it and counted as
// such, not as a crawler error; another network's magic is a crawler error.
func TestNotV1Opening(t *testing.T) {
	n := startNet(t, smallHealthy())
	seed := n.Seeds()[0]
	send := func(b []byte) {
		c, err := dialAddr(t, seed, time.Second)
		if err != nil {
			t.Fatal(err)
		}
		c.Write(b)
		readRaw(c, 300*time.Millisecond, 1<<16)
		c.Close()
		for deadline := time.Now().Add(2 * time.Second); n.Stats().Active > 0 && time.Now().Before(deadline); {
			time.Sleep(5 * time.Millisecond)
		}
	}
	ellswift := bytes.Repeat([]byte{0x42}, 64)
	send(ellswift)
	if st := n.Stats(); st.NotV1Openings != 1 || st.CrawlerErrors != 0 || st.Violations != 0 {
		t.Fatalf("after a v2 opening: %+v", st)
	}
	other := append(Testnet3.Magic[:], bytes.Repeat([]byte{0}, 60)...)
	send(other)
	if st := n.Stats(); st.NotV1Openings != 1 || st.CrawlerErrors != 1 {
		t.Fatalf("after testnet3's magic: %+v", st)
	}
}
