package simnet

import (
	"encoding/binary"
	"encoding/json"
	"net/netip"
	"strings"
	"testing"

	"github.com/nodesweep/nodesweep/codec"
)

func familyConfig() Config {
	return Config{Profile: ProfileRealistic, Nodes: 3000, IPv6Nodes: 900, CJDNSNodes: 300, CJDNSs: 20, Seed: 3}
}

// IPv6 and CJDNS identities sit in their ranges, map back to their index,
// read back in the crawler's codec as the same network, and have every
// outcome class; the forbidden IPv6 addresses lie beside the IPv6 range and
// are no routable address; gossip-only CJDNS addresses avoid the CJDNS
// range; a perfect crawl still learns every address.
func TestFamilies(t *testing.T) {
	l := testLayout(t, familyConfig())
	sib := netip.MustParsePrefix("2001:db8:1::/48")
	perFamily := map[NetID]map[Class]int{}
	forbidden6 := 0
	for u := uint32(0); u < l.total; u++ {
		id := l.identity(u)
		ip, _ := id.Addr.IP()
		back, err := codec.ParseAddr(id.Addr.String())
		if err != nil || back.String() != id.Addr.String() || uint8(back.Network()) != uint8(id.Addr.Network()) {
			t.Fatalf("%s (%s) reads back as %v %v", id.Addr, id.Addr.Network(), back, err)
		}
		switch {
		case u < l.nodes:
			want := map[family]NetID{famIPv4: NetIPv4, famIPv6: NetIPv6, famCJDNS: NetCJDNS}[l.familyOf(u)]
			if id.Addr.Network() != want || !l.inRanges(ip) {
				t.Fatalf("identity %d: %s (%s), want %s in its range", u, id.Addr, id.Addr.Network(), want)
			}
			if got, ok := l.indexOfIP(ip); !ok || got != u {
				t.Fatalf("%s maps back to %d %v, want %d", id.Addr, got, ok, u)
			}
			if perFamily[want] == nil {
				perFamily[want] = map[Class]int{}
			}
			perFamily[want][id.Class]++
		case id.Class == ClassForbidden && id.Addr.Network() == NetIPv6:
			if !sib.Contains(ip) || l.inRanges(ip) || back.Class() == codec.ClassRoutable {
				t.Fatalf("forbidden %s: want a documentation address beside the IPv6 range", id.Addr)
			}
			forbidden6++
		case id.Class == ClassCJDNS:
			if l.cfg.CJDNSRange.Contains(ip) || ip.As16()[0] != 0xfc {
				t.Fatalf("gossip-only CJDNS %s inside the identities' range or outside fc00::/8", id.Addr)
			}
		}
	}
	for _, nw := range []NetID{NetIPv4, NetIPv6, NetCJDNS} {
		c := perFamily[nw]
		if c[ClassReachable] == 0 || c[ClassRefused] == 0 || c[ClassBlackholed] == 0 {
			t.Errorf("%s identities by class %v: every outcome wanted", nw, c)
		}
	}
	if forbidden6 == 0 {
		t.Error("no forbidden IPv6 address")
	}
	if missing := unreachableByGossip(t, l); missing > 0 {
		t.Errorf("%d of %d addresses unreachable by gossip", missing, l.total)
	}
	t.Logf("by family and class: %v; %d forbidden IPv6", perFamily, forbidden6)
}

// addr (pre-BIP155) carries IPv4 and IPv6 and leaves CJDNS out, as Core's
// IsAddrV1Compatible does; addrv2 carries CJDNS as network 6.
func TestFamiliesInAddr(t *testing.T) {
	l := testLayout(t, familyConfig())
	var entries []gossipEntry
	for _, u := range []uint32{0, l.v4, l.v1} { // one of each family
		entries = append(entries, gossipEntry{addr: l.identity(u).Addr, services: 1, time: 7})
	}
	v1 := appendAddrPayload(nil, entries, 70015)
	if v1[0] != 2 || len(v1) != 1+2*30 {
		t.Fatalf("addr payload %x: want the IPv4 and the IPv6 entry", v1)
	}
	six := entries[1].addr.Raw()
	if string(v1[1+30+12:1+30+28]) != string(six) || binary.BigEndian.Uint16(v1[1+30+28:]) != entries[1].addr.Port() {
		t.Fatalf("IPv6 entry %x, want %x", v1[1+30:], six)
	}
	v2 := appendAddrV2Payload(nil, entries)
	if v2[0] != 3 || !strings.Contains(string(v2), string(append([]byte{byte(NetCJDNS), 16}, entries[2].addr.Raw()...))) {
		t.Fatalf("addrv2 payload %x: want the CJDNS entry as network 6", v2)
	}
}

// Defaults: no gossip-only CJDNS beside CJDNS identities, ranges only in
// the documentation prefix and fc00::/8, at least one IPv4 identity.
func TestFamilyConfig(t *testing.T) {
	cfg, err := Defaults(Config{Profile: ProfileHealthy, Nodes: 100, CJDNSNodes: 10})
	if err != nil || cfg.CJDNSs != 0 || cfg.IPv6Range != DefaultIPv6Range || cfg.CJDNSRange != DefaultCJDNSRange {
		t.Fatalf("%+v %v", cfg, err)
	}
	for _, bad := range []Config{
		{Nodes: 100, IPv6Nodes: 100},
		{Nodes: 100, IPv6Nodes: 10, IPv6Range: netip.MustParsePrefix("2001:470::/48")},
		{Nodes: 100, IPv6Nodes: 10, IPv6Range: netip.MustParsePrefix("2001:db8::/32")},
		{Nodes: 100, CJDNSNodes: 10, CJDNSRange: netip.MustParsePrefix("fd00::/16")},
		{Nodes: 100, CJDNSNodes: 10, CJDNSRange: netip.MustParsePrefix("fc00::/120")},
	} {
		if _, err := Defaults(bad); err == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
}

// A JSONL export's network column is checked against the address.
func TestVerifyNetwork(t *testing.T) {
	truth := &Truth{Nodes: []TruthNode{
		{Addr: "[fc00:db8::1]:8333", Class: ClassRefused},
		{Addr: "[2001:db8::1]:8333", Class: ClassRefused},
		{Addr: "127.16.0.1:8333", Class: ClassRefused},
	}}
	lines := func(nets ...string) string {
		var b strings.Builder
		for i, tn := range truth.Nodes {
			line, _ := json.Marshal(map[string]any{"addr": tn.Addr, "class": "refused", "network": nets[i]})
			b.Write(append(line, '\n'))
		}
		return b.String()
	}
	for _, c := range []struct {
		nets  []string
		wrong int
	}{{[]string{"cjdns", "ipv6", "ipv4"}, 0}, {[]string{"ipv6", "ipv6", "ipv4"}, 1}, {[]string{"cjdns", "ipv4", "ipv6"}, 2}} {
		e, err := ReadExport(strings.NewReader(lines(c.nets...)))
		if err != nil {
			t.Fatal(err)
		}
		if r := Verify(truth, e); r.Mismatches["network"] != c.wrong {
			t.Errorf("networks %v: %d mismatches, want %d\n%s", c.nets, r.Mismatches["network"], c.wrong, r.String())
		}
	}
}
