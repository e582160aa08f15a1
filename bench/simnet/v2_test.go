package simnet

import (
	"bytes"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/btcsuite/btcd/v2transport"
	"github.com/btcsuite/btcd/wire/v2"
)

// TestV2NodeWithBtcdInitiator: a v2 node of the simulator speaks to btcd's
// own v2transport initiator and btcd wire's v2 message encoding (no crawler
// code involved): version (with NODE_P2P_V2, as the truth says), verack,
// and an addr answer to getaddr; a v1 client still gets v1 from it; a
// v1-only node closes on the v2 key.
func TestV2NodeWithBtcdInitiator(t *testing.T) {
	n := startNet(t, Config{Profile: ProfileHealthy, Nodes: 300, Seed: 7, V2Share: 0.5})
	v2 := findIdentity(t, n, ClassReachable, func(id Identity) bool { return id.V2 == V2Full })
	if v2.Services&nodeP2PV2 == 0 {
		t.Fatalf("v2 node without NODE_P2P_V2: %d", v2.Services)
	}
	c, err := dialAddr(t, v2.Addr, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	p := v2transport.NewPeer()
	p.UseReadWriter(c)
	net := v2transport.BitcoinNet(btcnet(n))
	if err := p.InitiateV2Handshake(100); err != nil {
		t.Fatal(err)
	}
	if err := p.CompleteHandshake(true, []int{7}, net); err != nil {
		t.Fatal(err)
	}
	send := func(m wire.Message) {
		var b bytes.Buffer
		if _, err := wire.WriteV2MessageN(&b, m, wire.ProtocolVersion, wire.BaseEncoding); err != nil {
			t.Fatal(err)
		}
		if _, _, err := p.V2EncPacket(b.Bytes(), nil, false); err != nil {
			t.Fatal(err)
		}
	}
	send(ourVersion(t))
	var got []string
	var ver *wire.MsgVersion
	for len(got) < 20 {
		pkt, err := p.V2ReceivePacket(nil)
		if err != nil {
			t.Fatalf("after %v: %v", got, err)
		}
		msg, _, err := wire.ReadV2MessageN(pkt, wire.ProtocolVersion, wire.BaseEncoding)
		if err != nil {
			got = append(got, "?")
			continue
		}
		got = append(got, msg.Command())
		switch m := msg.(type) {
		case *wire.MsgVersion:
			ver = m
			send(wire.NewMsgSendAddrV2())
			send(wire.NewMsgVerAck())
			send(wire.NewMsgGetAddr())
		case *wire.MsgAddrV2, *wire.MsgAddr:
			if ver == nil || uint64(ver.Services) != v2.Services || ver.UserAgent != v2.UserAgent {
				t.Fatalf("version %+v, identity %+v", ver, v2)
			}
			return
		}
	}
	t.Fatalf("no addr answer: %v", got)
}

// TestV2KindsOnTheWire: the broken kinds break as they say, the v1-only
// kinds close on a v2 key, and every kind answers a v1 client normally.
func TestV2KindsOnTheWire(t *testing.T) {
	n := startNet(t, Config{Profile: ProfileHealthy, Nodes: 2000, Seed: 9, V2Share: 0.9, V2HostileShare: 0.5})
	net := v2transport.BitcoinNet(btcnet(n))
	for _, k := range []V2Kind{V2None, V2Drops, V2Endless, V2BadTag, V2Oversized} {
		id := findIdentity(t, n, ClassReachable, func(id Identity) bool { return id.V2 == k })
		if id.V2.Advertises() != (id.Services&nodeP2PV2 != 0) {
			t.Errorf("%v: services %d", k, id.Services)
		}
		c, err := dialAddr(t, id.Addr, time.Second)
		if err != nil {
			t.Fatal(err)
		}
		c.SetDeadline(time.Now().Add(10 * time.Second))
		p := v2transport.NewPeer()
		p.UseReadWriter(c)
		err = p.InitiateV2Handshake(0)
		if err == nil {
			err = p.CompleteHandshake(true, nil, net)
		}
		var pkt []byte
		if err == nil {
			pkt, err = p.V2ReceivePacket(nil)
		}
		c.Close()
		switch {
		case k == V2Oversized: // btcd reads up to 16 MiB: the length is the point
			if err != nil || len(pkt) != v2OversizedLen {
				t.Errorf("%v: %d bytes, %v", k, len(pkt), err)
			}
		case err == nil:
			t.Errorf("%v: v2 worked", k)
		case (k == V2None || k == V2Drops) && !p.ShouldDowngradeToV1() && !errors.Is(err, io.EOF):
			t.Errorf("%v: %v, want a close on the key", k, err)
		}
		t.Logf("%v: %v", k, err)
		// And over v1 it is a normal node.
		c, err = dialAddr(t, id.Addr, time.Second)
		if err != nil {
			t.Fatal(err)
		}
		w := &wireClient{t: t, c: c, net: btcnet(n)}
		r, err := w.crawl(true, 5*time.Second)
		c.Close()
		if err != nil || r.version == nil || !r.verack {
			t.Errorf("%v over v1: %v %v", k, err, r.commands)
		}
	}
}
