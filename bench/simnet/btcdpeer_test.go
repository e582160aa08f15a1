package simnet

import (
	"testing"
	"time"

	"github.com/btcsuite/btcd/chaincfg/v2"
	"github.com/btcsuite/btcd/peer"
	"github.com/btcsuite/btcd/wire/v2"
)

// btcd's own peer package, a real implementation, completes the handshake
// with a simulated node and receives its addresses: the simulator speaks
// the protocol, not just nodesweep's dialect.
func TestBtcdPeerHandshakeAndAddresses(t *testing.T) {
	n := startNet(t, smallHealthy())
	seed := n.Seeds()[0]
	id, _ := n.Lookup(seed)

	verack := make(chan struct{}, 1)
	addrs := make(chan int, 4)
	versions := make(chan *wire.MsgVersion, 1)
	cfg := &peer.Config{
		UserAgentName:    "simnet-btcd-test",
		UserAgentVersion: "0.1",
		ChainParams:      &chaincfg.MainNetParams,
		Services:         0,
		TrickleInterval:  time.Second,
		Listeners: peer.MessageListeners{
			OnVersion: func(p *peer.Peer, m *wire.MsgVersion) *wire.MsgReject {
				versions <- m
				return nil
			},
			OnVerAck: func(p *peer.Peer, m *wire.MsgVerAck) { verack <- struct{}{} },
			OnAddrV2: func(p *peer.Peer, m *wire.MsgAddrV2) { addrs <- len(m.AddrList) },
			OnAddr:   func(p *peer.Peer, m *wire.MsgAddr) { addrs <- len(m.AddrList) },
		},
	}
	p, err := peer.NewOutboundPeer(cfg, seed.String())
	if err != nil {
		t.Fatal(err)
	}
	c, err := dialAddr(t, seed, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	p.AssociateConnection(c)
	defer func() { p.Disconnect(); p.WaitForDisconnect() }()

	select {
	case <-verack:
	case <-time.After(5 * time.Second):
		t.Fatal("btcd peer: no verack")
	}
	v := <-versions
	if uint32(v.ProtocolVersion) != id.ProtocolVersion || v.UserAgent != id.UserAgent ||
		uint64(v.Services) != id.Services || v.LastBlock != id.StartHeight {
		t.Errorf("btcd saw version %+v, identity %+v", v, id)
	}
	p.QueueMessage(wire.NewMsgGetAddr(), nil)
	select {
	case k := <-addrs:
		if k < 50 {
			t.Errorf("btcd peer got only %d addresses", k)
		}
		t.Logf("btcd peer: pver %d, %d addresses", p.ProtocolVersion(), k)
	case <-time.After(5 * time.Second):
		t.Fatal("btcd peer: no addresses")
	}
	if !p.Connected() {
		t.Error("btcd peer disconnected")
	}
}
