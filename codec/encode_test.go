package codec

import (
	"bytes"
	"testing"

	"github.com/btcsuite/btcd/wire/v2"
)

func TestAppendMessage(t *testing.T) {
	v := Version{Protocol: ProtocolCurrent, Services: 1024, Timestamp: 1700000000, Nonce: 99,
		UserAgent: "/nodesweep:0.1/", StartHeight: 0, Relay: false,
		HasAddrFrom: true, HasNonce: true, HasUserAgent: true, HasStartHeight: true, HasRelay: true}
	v.AddrRecv.IP = [16]byte{10: 0xff, 11: 0xff, 8, 8, 8, 8}
	v.AddrRecv.Port = 8333
	pl := AppendVersion(nil, &v)
	prefix := []byte("prefix")
	if got, want := AppendVersionMessage(bytes.Clone(prefix), Regtest.Magic, &v),
		AppendFrame(bytes.Clone(prefix), Regtest.Magic, CmdVersion, pl); !bytes.Equal(got, want) {
		t.Fatalf("AppendMessage\n%x\nAppendFrame\n%x", got, want)
	}
	if got := AppendMessage(nil, Mainnet.Magic, CmdVerack, nil); !bytes.Equal(got, frame(CmdVerack, nil)) {
		t.Fatalf("nil appender: %x", got)
	}
	// With capacity it writes in place: no allocation.
	buf := make([]byte, 0, 512)
	if n := testing.AllocsPerRun(100, func() { _ = AppendVersionMessage(buf[:0], Mainnet.Magic, &v) }); n != 0 {
		t.Fatalf("%v allocs", n)
	}
}

// TestBtcdReadsOurMessages: btcd's ReadMessageN accepts every message the
// crawler and the simulator send, with the same field values.
func TestBtcdReadsOurMessages(t *testing.T) {
	v := Version{Protocol: ProtocolCurrent, Services: 1033, Timestamp: 1700000000, Nonce: 0xabcdef,
		UserAgent: "/nodesweep:0.1/", StartHeight: 12, Relay: false,
		HasAddrFrom: true, HasNonce: true, HasUserAgent: true, HasStartHeight: true, HasRelay: true}
	v.AddrRecv = NetAddr{Services: 1, IP: [16]byte{10: 0xff, 11: 0xff, 1, 2, 3, 4}, Port: 8333}
	entries := []AddrEntry{
		{Time: 1700000000, Services: 1, Addr: MustParseAddr("1.2.3.4:8333")},
		{Time: 1700000001, Services: 1032, Addr: MustParseAddr("[2a01::2]:8334")},
		{Time: 1700000002, Services: 8, Addr: MustParseAddr("2gzyxa5ihm7nsggfxnu52rck2vv4rvmdlkiu3zzui5du4xyclen53wid.onion:8333")},
	}
	m := Mainnet.Magic
	for name, fr := range map[string][]byte{
		"version":    AppendVersionMessage(nil, m, &v),
		"verack":     AppendFrame(nil, m, CmdVerack, nil),
		"sendaddrv2": AppendFrame(nil, m, CmdSendAddrV2, nil),
		"getaddr":    AppendFrame(nil, m, CmdGetAddr, nil),
		"ping":       AppendPingMessage(nil, m, 5),
		"pong":       AppendPongMessage(nil, m, 6),
		"addr":       AppendFrame(nil, m, CmdAddr, AppendAddr(nil, 70016, entries)),
		"addrv2":     AppendFrame(nil, m, CmdAddrV2, AppendAddrV2(nil, entries)),
		"reject":     AppendFrame(nil, m, CmdReject, AppendReject(nil, &Reject{Message: "tx", Code: 0x42, Reason: "r", HasHash: true})),
	} {
		n, msg, _, err := wire.ReadMessageN(bytes.NewReader(fr), 70016, wire.MainNet)
		if err != nil || n != len(fr) || msg.Command() != name {
			t.Fatalf("%s: n=%d %v", name, n, err)
		}
		switch msg := msg.(type) {
		case *wire.MsgVersion:
			if msg.ProtocolVersion != v.Protocol || uint64(msg.Services) != v.Services || msg.Nonce != v.Nonce ||
				msg.UserAgent != v.UserAgent || msg.LastBlock != v.StartHeight || !msg.DisableRelayTx ||
				msg.Timestamp.Unix() != v.Timestamp || msg.AddrYou.IP.String() != "1.2.3.4" || msg.AddrYou.Port != 8333 {
				t.Errorf("version: %+v", msg)
			}
		case *wire.MsgPing:
			if msg.Nonce != 5 {
				t.Errorf("ping %d", msg.Nonce)
			}
		case *wire.MsgPong:
			if msg.Nonce != 6 {
				t.Errorf("pong %d", msg.Nonce)
			}
		case *wire.MsgAddr:
			if len(msg.AddrList) != 2 || msg.AddrList[1].IP.String() != "2a01::2" || msg.AddrList[1].Services != 1032 {
				t.Errorf("addr %+v", msg.AddrList)
			}
		case *wire.MsgAddrV2:
			if len(msg.AddrList) != 3 || msg.AddrList[2].Addr.String() != entries[2].Addr.Host() ||
				msg.AddrList[2].Timestamp.Unix() != 1700000002 {
				t.Errorf("addrv2 %+v", msg.AddrList)
			}
		case *wire.MsgReject:
			if msg.Cmd != "tx" || msg.Code != 0x42 || msg.Reason != "r" {
				t.Errorf("reject %+v", msg)
			}
		}
	}
}
