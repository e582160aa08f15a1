package simnet

import (
	"net"
	"net/netip"
	"strconv"
	"testing"
	"time"

	"github.com/btcsuite/btcd/wire/v2"

	"github.com/nodesweep/nodesweep/codec"
)

func smallHealthy() Config {
	return Config{Profile: ProfileHealthy, Nodes: 300, Seed: 7}
}

// A raw btcd-wire client completes the handshake and gets addresses as
// addrv2 after sendaddrv2, as addr without; version fields match the truth.
func TestWireClientHandshakeAndGetAddr(t *testing.T) {
	n := startNet(t, smallHealthy())
	truth := map[string]TruthNode{}
	for _, tn := range n.Truth().Nodes {
		truth[tn.Addr] = tn
	}
	seed := n.Seeds()[0]
	id, ok := n.Lookup(seed)
	if !ok || id.Class != ClassReachable {
		t.Fatalf("seed %s: %+v", seed, id)
	}
	for _, v2 := range []bool{true, false} {
		c, err := dialAddr(t, seed, time.Second)
		if err != nil {
			t.Fatal(err)
		}
		w := &wireClient{t: t, c: c, net: btcnet(n)}
		r, err := w.crawl(v2, 5*time.Second)
		c.Close()
		if err != nil {
			t.Fatalf("v2=%v: %v (got %v)", v2, err, r.commands)
		}
		tn := truth[seed.String()]
		v := r.version
		if v == nil || !r.verack {
			t.Fatalf("v2=%v: no version/verack: %v", v2, r.commands)
		}
		if uint32(v.ProtocolVersion) != *tn.ProtocolVersion || uint64(v.Services) != *tn.Services ||
			v.UserAgent != *tn.UserAgent || v.LastBlock != *tn.StartHeight || v.DisableRelayTx == *tn.Relay {
			t.Errorf("version %+v does not match truth %+v", v, tn)
		}
		var got []codec.Addr
		if v2 {
			if r.addrV2 == nil {
				t.Fatalf("sendaddrv2 sent, got %v", r.commands)
			}
			for _, na := range r.addrV2.AddrList {
				// btcd skips I2P and CJDNS entries; the others must be in the truth.
				a, err := codec.ParseAddr(net.JoinHostPort(na.Addr.String(), itoa(na.Port)))
				if err != nil {
					t.Fatalf("addrv2 entry %v: %v", na.Addr, err)
				}
				got = append(got, a)
			}
		} else {
			if r.addrV1 == nil {
				t.Fatalf("no sendaddrv2, got %v", r.commands)
			}
			for _, na := range r.addrV1.AddrList {
				ip, _ := netip.AddrFromSlice(na.IP)
				got = append(got, codec.AddrFromAddrPort(netip.AddrPortFrom(ip, na.Port)))
			}
		}
		if len(got) < 50 {
			t.Errorf("v2=%v: only %d addresses", v2, len(got))
		}
		for _, a := range got {
			if _, ok := truth[a.String()]; !ok {
				t.Fatalf("gossiped %s is not in the truth", a)
			}
		}
		t.Logf("v2=%v: %d addresses, commands %v", v2, len(got), r.commands)
	}
}

func itoa(p uint16) string { return strconv.Itoa(int(p)) }

// Old nodes send old-shaped versions (no relay byte before 70001); btcd
// wire still decodes them and the fields match.
func TestOldVersionShapes(t *testing.T) {
	n := startNet(t, Config{Profile: ProfileHealthy, Nodes: 2000, Seed: 3})
	for _, pver := range []uint32{70015, 70001, 60002, 31800, 209} {
		id := findIdentity(t, n, ClassReachable, func(i Identity) bool { return i.ProtocolVersion == pver })
		c, err := dialAddr(t, id.Addr, time.Second)
		if err != nil {
			t.Fatal(err)
		}
		w := &wireClient{t: t, c: c, net: btcnet(n)}
		r, err := w.crawl(true, 5*time.Second)
		c.Close()
		if r.version == nil || err != nil {
			t.Fatalf("pver %d: %v %v", pver, err, r.commands)
		}
		v := r.version
		if uint32(v.ProtocolVersion) != pver || v.UserAgent != id.UserAgent || v.LastBlock != id.StartHeight ||
			uint64(v.Services) != id.Services || v.DisableRelayTx == id.Relay {
			t.Errorf("pver %d: got %+v want %+v", pver, v, id)
		}
		if pver < 70016 && r.addrV2 != nil {
			t.Errorf("pver %d answered addrv2; only ≥ 70016 nodes know sendaddrv2", pver)
		}
		if pver < wire.NetAddressTimeVersion && (r.addrV1 == nil || len(r.addrV1.AddrList) != 0) {
			t.Errorf("pver %d: want an empty addr (entries without timestamps would misparse)", pver)
		}
		t.Logf("pver %d: %v, err %v", pver, r.commands, err)
	}
}
