package codec

import (
	"bytes"
	"fmt"
	"math/rand"
	"net"
	"testing"
	"time"

	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/btcsuite/btcd/wire/v2"
)

// The differential tests compare our Decoder and parsers with btcd wire/v2's
// ReadMessageN, field by field. Documented divergences, where btcd is known
// to drop or mishandle and we follow Bitcoin Core or BIP155 instead:
//
//   - addrv2: btcd silently drops I2P (5) and CJDNS (6) entries, and IPv6
//     entries that are OnionCat or IPv4-mapped; we keep I2P and CJDNS and
//     normalise the other two to TorV2 and IPv4 (NewAddr).
//   - addrv2: btcd skips a CJDNS entry outside fc00::/8 (as it skips every
//     CJDNS entry); we reject the message (ErrMalformed).
//   - addr and addrv2: an IPv6 address in fc00::/8 is IPv6 to btcd, CJDNS to
//     us (BIP155 gives that range to CJDNS); an OnionCat IPv6 is TorV2 to us.
//     The 16 bytes agree, so entries are compared on V1Bytes / host strings.
//   - version: btcd accepts addr_from without a nonce (a 72-byte payload);
//     Core reads both as one group and so do we (ErrTruncated).
//   - version, addr, addrv2, ping: btcd rejects trailing bytes after the last
//     field; Core ignores them and so do we. (Only inputs btcd accepts are
//     compared, so this one never shows.)
//   - addr with pver < 31402 (no timestamps): btcd reads the entries as we
//     do (checked below down to pver 106), but below pver 209 its frame cap
//     (MaxPayloadLength) is a single entry and its encoder refuses more; we
//     cap at MaxAddrEntries whatever the version.

// diffVersion compares a version frame that btcd accepted.
func diffVersion(m *wire.MsgVersion, v Version, payloadLen int) error {
	if payloadLen == 72 { // addr_from without nonce: accepted by btcd only
		return nil
	}
	hasUA := payloadLen > versionBaseLen+netAddrLen+8
	if v.Protocol != m.ProtocolVersion || v.Services != uint64(m.Services) || v.Timestamp != m.Timestamp.Unix() ||
		v.Nonce != m.Nonce || v.UserAgent != m.UserAgent || v.StartHeight != m.LastBlock || v.Relay == m.DisableRelayTx ||
		v.HasUserAgent != hasUA {
		return fmt.Errorf("version: ours %+v, btcd %+v", v, m)
	}
	for _, p := range []struct {
		ours NetAddr
		b    wire.NetAddress
	}{{v.AddrRecv, m.AddrYou}, {v.AddrFrom, m.AddrMe}} {
		ip := [16]byte{}
		copy(ip[:], p.b.IP.To16())
		if p.ours.Services != uint64(p.b.Services) || p.ours.IP != ip || p.ours.Port != p.b.Port {
			return fmt.Errorf("version address: ours %+v, btcd %+v", p.ours, p.b)
		}
	}
	return nil
}

func diffAddr(m *wire.MsgAddr, got []AddrEntry, pver uint32) error {
	if len(got) != len(m.AddrList) {
		return fmt.Errorf("addr: %d entries, btcd %d", len(got), len(m.AddrList))
	}
	for i, na := range m.AddrList {
		e := got[i]
		v1, _ := e.Addr.V1Bytes()
		var ip [16]byte
		copy(ip[:], na.IP.To16())
		wantTime := uint32(na.Timestamp.Unix())
		if pver < ProtocolAddrTime {
			wantTime = 0
		}
		if e.Time != wantTime || e.Services != uint64(na.Services) || v1 != ip || e.Addr.Port() != na.Port {
			return fmt.Errorf("addr entry %d: ours %+v %s, btcd %+v", i, e, e.Addr, na)
		}
	}
	return nil
}

// btcdMayDrop: the networks of entries btcd leaves out (see above).
func btcdMayDrop(a Addr) bool {
	switch a.Network() {
	case NetI2P, NetCJDNS, NetTorV2, NetIPv4:
		return true
	}
	return false
}

func diffAddrV2(m *wire.MsgAddrV2, got []AddrEntry) error {
	j := 0
	for _, e := range got {
		if j < len(m.AddrList) {
			na := m.AddrList[j]
			if e.Time == uint32(na.Timestamp.Unix()) && e.Services == uint64(na.Services) &&
				e.Addr.Port() == na.Port && e.Addr.Host() == na.Addr.String() {
				j++
				continue
			}
		}
		if !btcdMayDrop(e.Addr) {
			return fmt.Errorf("addrv2: our entry %+v (%s) is not btcd's entry %d", e, e.Addr, j)
		}
	}
	if j != len(m.AddrList) {
		return fmt.Errorf("addrv2: btcd has %d entries we lack (matched %d)", len(m.AddrList)-j, j)
	}
	return nil
}

// diffFrame decodes one frame with btcd and with us. It returns compared ==
// false when btcd refuses the frame (nothing to compare), and an error when
// we disagree with btcd outside the documented divergences.
func diffFrame(fr []byte, pver uint32) (compared bool, err error) {
	_, msg, _, berr := wire.ReadMessageN(bytes.NewReader(fr), pver, wire.MainNet)
	if berr != nil {
		return false, nil
	}
	d := NewDecoder(Mainnet.Magic, CrawlerCommands)
	f, n, derr := d.Decode(fr)
	if derr != nil || n != len(fr) || f.Skipped {
		return true, fmt.Errorf("our Decoder: %+v n=%d %v on a frame btcd accepts (%s)", f, n, derr, msg.Command())
	}
	p := f.Payload
	switch m := msg.(type) {
	case *wire.MsgVersion:
		v, err := DecodeVersion(p)
		if err != nil {
			if len(p) == 72 {
				return true, nil
			}
			return true, fmt.Errorf("version btcd accepts: %v", err)
		}
		return true, diffVersion(m, v, len(p))
	case *wire.MsgAddr:
		got, err := DecodeAddr(p, int32(pver), nil)
		if err != nil {
			return true, fmt.Errorf("addr btcd accepts: %v", err)
		}
		return true, diffAddr(m, got, pver)
	case *wire.MsgAddrV2:
		got, _, err := DecodeAddrV2(p, nil)
		if err != nil {
			var fe *FieldError
			if asFieldError(err, &fe) && fe.Detail != "" && bytes.Contains([]byte(fe.Detail), []byte("fc00::/8")) {
				return true, nil // CJDNS outside fc00::/8: btcd skips, we reject
			}
			return true, fmt.Errorf("addrv2 btcd accepts: %v", err)
		}
		return true, diffAddrV2(m, got)
	case *wire.MsgPing:
		nonce, err := DecodePing(p)
		if err != nil || nonce != m.Nonce {
			return true, fmt.Errorf("ping: ours %x %v, btcd %x", nonce, err, m.Nonce)
		}
	case *wire.MsgPong:
		nonce, err := DecodePong(p)
		if err != nil || nonce != m.Nonce {
			return true, fmt.Errorf("pong: ours %x %v, btcd %x", nonce, err, m.Nonce)
		}
	case *wire.MsgReject:
		r, err := DecodeReject(p)
		if err != nil || r.Message != m.Cmd || r.Code != uint8(m.Code) || r.Reason != m.Reason ||
			r.Hash != [32]byte(m.Hash) {
			return true, fmt.Errorf("reject: ours %+v %v, btcd %+v", r, err, m)
		}
	}
	return true, nil
}

func asFieldError(err error, fe **FieldError) bool {
	e, ok := err.(*FieldError)
	*fe = e
	return ok
}

// Random values for the generators.
func randIP(r *rand.Rand) net.IP {
	ip := make(net.IP, 16)
	r.Read(ip)
	switch r.Intn(5) {
	case 0: // IPv4
		return net.IPv4(ip[0], ip[1], ip[2], ip[3])
	case 1: // OnionCat
		copy(ip, onionCat[:])
	case 2: // fc00::/8
		ip[0] = 0xfc
	}
	return ip
}

func randServices(r *rand.Rand) wire.ServiceFlag {
	switch r.Intn(3) {
	case 0:
		return wire.ServiceFlag(r.Uint64())
	case 1:
		return wire.ServiceFlag(r.Intn(0x10000))
	}
	return wire.ServiceFlag(r.Intn(0xfd))
}

func randTime(r *rand.Rand) time.Time { return time.Unix(int64(r.Uint32()), 0) }

func randString(r *rand.Rand, n int) string {
	b := make([]byte, n)
	r.Read(b) // any bytes: neither side requires UTF-8
	return string(b)
}

func randCount(r *rand.Rand) int {
	if r.Intn(50) == 0 {
		return 1000
	}
	return r.Intn(40)
}

// randMessage returns a random valid message, its frame, and the pver it is
// encoded for. Every addrv2 is built with our encoder when it holds networks
// btcd cannot encode (I2P, CJDNS, unknown ids), by btcd otherwise.
func randMessage(t testing.TB, r *rand.Rand) ([]byte, uint32) {
	pver := uint32(70016)
	switch r.Intn(7) {
	case 0, 1:
		m := wire.NewMsgVersion(wire.NewNetAddressIPPort(randIP(r), uint16(r.Intn(65536)), randServices(r)),
			wire.NewNetAddressIPPort(randIP(r), uint16(r.Intn(65536)), randServices(r)), r.Uint64(), int32(r.Uint32()))
		m.ProtocolVersion = int32(r.Uint32())
		m.Services = randServices(r)
		m.Timestamp = time.Unix(int64(r.Uint64()>>2), 0)
		m.UserAgent = randString(r, r.Intn(MaxUserAgent+1))
		m.DisableRelayTx = r.Intn(2) == 0
		if r.Intn(4) == 0 {
			pver = 60000 // no relay field
		}
		return btcdFrame(t, m, pver), pver
	case 2:
		m := wire.NewMsgAddr()
		count := randCount(r)
		switch r.Intn(8) {
		case 0, 1:
			pver = uint32(209 + r.Intn(int(ProtocolAddrTime)-209)) // no timestamps
		case 2:
			pver, count = uint32(106+r.Intn(209-106)), r.Intn(2) // one entry at most
		}
		for range count {
			_ = m.AddAddress(wire.NewNetAddressTimestamp(randTime(r), randServices(r), randIP(r), uint16(r.Intn(65536))))
		}
		return btcdFrame(t, m, pver), pver
	case 3:
		var entries []AddrEntry
		for range randCount(r) {
			n := Network(1 + r.Intn(7))
			raw := make([]byte, max(n.Len(), 1+r.Intn(40)))
			r.Read(raw)
			if n == NetCJDNS {
				raw[0] = 0xfc
			}
			if n == 7 { // an unknown id: written by hand below
				entries = append(entries, AddrEntry{Time: r.Uint32(), Services: 7})
				continue
			}
			a, err := NewAddr(n, raw[:n.Len()], uint16(r.Intn(65536)))
			if err != nil {
				t.Fatal(err)
			}
			entries = append(entries, AddrEntry{Time: r.Uint32(), Services: uint64(randServices(r)), Addr: a})
		}
		// Our encoder, plus unknown-id entries spliced in by hand.
		p := AppendCompactSize(nil, uint64(len(entries)))
		for _, e := range entries {
			if !e.Addr.IsValid() {
				p = append(p, hx("00000000 00 2a 03 010203 0000")...)
				continue
			}
			p = append(p, AppendAddrV2(nil, []AddrEntry{e})[1:]...)
		}
		return frame(CmdAddrV2, p), pver
	case 4:
		m := wire.NewMsgAddrV2()
		for range randCount(r) {
			var raw []byte
			switch r.Intn(4) {
			case 0:
				raw = make([]byte, 4)
			case 1:
				raw = make([]byte, 16)
			case 2:
				raw = make([]byte, 10)
			default:
				raw = make([]byte, 32)
			}
			r.Read(raw)
			m.AddrList = append(m.AddrList, wire.NetAddressV2FromBytes(randTime(r), randServices(r), raw, uint16(r.Intn(65536))))
		}
		return btcdFrame(t, m, pver), pver
	case 5:
		if r.Intn(2) == 0 {
			return btcdFrame(t, wire.NewMsgPing(r.Uint64()), pver), pver
		}
		return btcdFrame(t, wire.NewMsgPong(r.Uint64()), pver), pver
	default:
		cmds := []string{"tx", "block", "version", "inv", ""}
		m := wire.NewMsgReject(cmds[r.Intn(len(cmds))], wire.RejectCode(r.Intn(256)), randString(r, r.Intn(300)))
		r.Read(m.Hash[:])
		if m.Cmd != "tx" && m.Cmd != "block" {
			m.Hash = chainhash.Hash{}
		}
		return btcdFrame(t, m, pver), pver
	}
}

func TestDifferentialBtcd(t *testing.T) {
	r := rand.New(rand.NewSource(20261122))
	n := 3000
	if testing.Short() {
		n = 300
	}
	compared := 0
	for i := range n {
		fr, pver := randMessage(t, r)
		ok, err := diffFrame(fr, pver)
		if err != nil {
			t.Fatalf("message %d (%x...): %v", i, fr[:min(len(fr), 64)], err)
		}
		if ok {
			compared++
		}
	}
	// Every generated message is valid, so btcd accepts all of them.
	if compared != n {
		t.Fatalf("btcd accepted only %d of %d messages", compared, n)
	}
	t.Logf("%d of %d messages compared field by field", compared, n)
}
