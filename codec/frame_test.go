package codec

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"net"
	"reflect"
	"testing"
	"time"

	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/btcsuite/btcd/wire/v2"
)

// vectors returns every whole-frame test vector: the real OUR_VERSION, one
// frame per message btcd encodes, the BIP155 vectors, and frames of commands
// the crawler recognises but skips.
func vectors(t testing.TB) map[string][]byte {
	ts := time.Unix(1700000000, 0)
	me := wire.NewNetAddressIPPort(net.ParseIP("198.51.100.1"), 8333, wire.SFNodeNetwork)
	ver := wire.NewMsgVersion(me, me, 42, 800000)
	ver.Timestamp = ts
	ver.UserAgent = "/btcwire:0.5.0/btcd:0.26.2/"
	addr := wire.NewMsgAddr()
	_ = addr.AddAddress(wire.NewNetAddressTimestamp(ts, 1, net.ParseIP("8.8.8.8"), 8333))
	_ = addr.AddAddress(wire.NewNetAddressTimestamp(ts, 9, net.ParseIP("2a01::1"), 8333))
	addrv2 := wire.NewMsgAddrV2()
	addrv2.AddrList = append(addrv2.AddrList, wire.NetAddressV2FromBytes(ts, 1, hx("08080404"), 8333))
	rej := wire.NewMsgReject("version", wire.RejectDuplicate, "Duplicate version message")
	inv := wire.NewMsgInv()
	_ = inv.AddInvVect(wire.NewInvVect(wire.InvTypeTx, &chainhash.Hash{1}))
	return map[string][]byte{
		"OUR_VERSION":      ourVersion,
		"btcd version":     btcdFrame(t, ver, 70016),
		"btcd verack":      btcdFrame(t, wire.NewMsgVerAck(), 70016),
		"btcd sendaddrv2":  btcdFrame(t, wire.NewMsgSendAddrV2(), 70016),
		"btcd getaddr":     btcdFrame(t, wire.NewMsgGetAddr(), 70016),
		"btcd ping":        btcdFrame(t, wire.NewMsgPing(0x1122334455667788), 70016),
		"btcd pong":        btcdFrame(t, wire.NewMsgPong(0x1122334455667788), 70016),
		"btcd addr":        btcdFrame(t, addr, 70016),
		"btcd addrv2":      btcdFrame(t, addrv2, 70016),
		"btcd reject":      btcdFrame(t, rej, 70016),
		"btcd inv":         btcdFrame(t, inv, 70016),
		"btcd wtxidrelay":  btcdFrame(t, wire.NewMsgWTxIdRelay(), 70016),
		"BIP155 every id":  frame(CmdAddrV2, v2All),
		"unknown command":  AppendFrameName(nil, Mainnet.Magic, [12]byte{'f', 'o', 'o'}, []byte("payload")),
		"NUL command name": AppendFrameName(nil, Mainnet.Magic, [12]byte{}, []byte{1, 2, 3}),
	}
}

// TestDecoderSplits feeds every vector, and all of them in one stream, split
// at every offset and byte by byte: the frames must not depend on how the
// bytes arrive.
func TestDecoderSplits(t *testing.T) {
	vs := vectors(t)
	var all []byte
	for name, v := range vs {
		want := feed(t, NewDecoder(Mainnet.Magic, CrawlerCommands), [][]byte{v})
		if len(want.Frames) != 1 || want.Garbage != 0 || want.Checksums != 0 || want.Fatal != nil || want.Left != 0 {
			t.Fatalf("%s: %+v", name, want)
		}
		f := want.Frames[0]
		if f.Length != uint32(len(v)-HeaderLen) || f.Skipped != !CrawlerCommands.Has(f.Command) ||
			(!f.Skipped && !bytes.Equal(f.Payload, v[HeaderLen:])) {
			t.Fatalf("%s: %+v", name, f)
		}
		for i, chunks := range splits(v) {
			if got := feed(t, NewDecoder(Mainnet.Magic, CrawlerCommands), chunks); !reflect.DeepEqual(got, want) {
				t.Fatalf("%s split %d: %+v, want %+v", name, i, got, want)
			}
		}
		all = append(all, v...)
	}
	// Garbage around and between, and a dropped frame.
	bad := frame(CmdPing, []byte{1, 2, 3, 4, 5, 6, 7, 8})
	bad[20] ^= 1
	stream := bytes.Join([][]byte{[]byte("GET / HTTP/1.0\r\n"), all, {0xf9, 0xbe, 0x00}, bad, all, {0xf9, 0xbe, 0xb4}}, nil)
	want := feed(t, NewDecoder(Mainnet.Magic, CrawlerCommands), [][]byte{stream})
	if len(want.Frames) != 2*len(vs) || want.Garbage != 16+3 || want.Checksums != 1 || want.Left != 3 || want.Fatal != nil {
		t.Fatalf("stream: %d frames, %+v", len(want.Frames), want)
	}
	for i, chunks := range splits(stream) {
		if got := feed(t, NewDecoder(Mainnet.Magic, CrawlerCommands), chunks); !reflect.DeepEqual(got, want) {
			t.Fatalf("stream split %d: %+v", i, got)
		}
	}
}

func TestDecoderResync(t *testing.T) {
	verack := frame(CmdVerack, nil)
	ping := frame(CmdPing, hx("0102030405060708"))
	testnet := AppendFrame(nil, Testnet3.Magic, CmdPing, hx("0102030405060708"))
	badSum := bytes.Clone(ping)
	badSum[23] ^= 0x80
	badPayload := bytes.Clone(ping)
	badPayload[HeaderLen] ^= 1
	cat := func(p ...[]byte) []byte { return bytes.Join(p, nil) }
	for _, tc := range []struct {
		name      string
		in        []byte
		frames    []Command
		garbage   int
		checksums int
		left      int
	}{
		{"garbage before magic", cat([]byte("hello"), verack), []Command{CmdVerack}, 5, 0, 0},
		{"garbage holding a partial magic", cat([]byte{0xf9, 0xbe, 0xb4, 0xf9, 0xbe}, verack), []Command{CmdVerack}, 5, 0, 0},
		{"garbage between frames", cat(verack, []byte{0, 0, 0}, ping), []Command{CmdVerack, CmdPing}, 3, 0, 0},
		{"partial magic at the end", cat(verack, []byte{0xf9, 0xbe, 0xb4}), []Command{CmdVerack}, 0, 0, 3},
		{"not-a-magic tail", cat(verack, []byte{0xf9, 0xbe, 0x00}), []Command{CmdVerack}, 3, 0, 0},
		{"wrong-network magic", cat(testnet, ping), []Command{CmdPing}, len(testnet), 0, 0},
		{"bad checksum field", cat(badSum, verack), []Command{CmdVerack}, 0, 1, 0},
		{"corrupted payload", cat(verack, badPayload, ping), []Command{CmdVerack, CmdPing}, 0, 1, 0},
		{"only garbage", []byte("no magic here at all"), nil, 20, 0, 0},
		{"incomplete header", verack[:23], nil, 0, 0, 23},
		{"incomplete payload", ping[:31], nil, 0, 0, 31},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for i, chunks := range splits(tc.in) {
				res := feed(t, NewDecoder(Mainnet.Magic, CrawlerCommands), chunks)
				var cmds []Command
				for _, f := range res.Frames {
					cmds = append(cmds, f.Command)
				}
				if !reflect.DeepEqual(cmds, tc.frames) || res.Garbage != tc.garbage || res.Checksums != tc.checksums ||
					res.Left != tc.left || res.Fatal != nil {
					t.Fatalf("split %d: frames %v, %+v", i, cmds, res)
				}
			}
		})
	}
}

func TestDecoderChecksumError(t *testing.T) {
	ping := frame(CmdPing, hx("0102030405060708"))
	ping[20] = 0
	_, n, err := NewDecoder(Mainnet.Magic, CrawlerCommands).Decode(ping)
	var ce *ChecksumError
	if !errors.Is(err, ErrChecksum) || !errors.As(err, &ce) || n != len(ping) || ce.Command != CmdPing ||
		ce.Name != "ping" || ce.Want != [4]byte(ping[20:24]) || ce.Got != Checksum(ping[HeaderLen:]) {
		t.Fatalf("%v n=%d", err, n)
	}
}

// header builds a 24-byte header with any declared length.
func header(magic [4]byte, name string, length uint32) []byte {
	var f [12]byte
	copy(f[:], name)
	b := append(magic[:], f[:]...)
	b = binary.LittleEndian.AppendUint32(b, length)
	return append(b, 0, 0, 0, 0)
}

// TestDecoderOversize: the length is judged from the header alone, before a
// payload byte arrives, and the error is fatal (n == 0, repeated).
func TestDecoderOversize(t *testing.T) {
	for _, tc := range []struct {
		name   string
		length uint32
		max    uint32
	}{
		{"block", 0xffffffff, MaxPayload},
		{"block", MaxPayload + 1, MaxPayload},
		{"foo", MaxPayload + 1, MaxPayload},
		{"version", MaxVersionPayload + 1, MaxVersionPayload},
		{"verack", MaxEmptyPayload + 1, MaxEmptyPayload},
		{"ping", MaxEmptyPayload + 1, MaxEmptyPayload},
		{"addr", MaxAddrPayload + 1, MaxAddrPayload},
		{"addrv2", MaxAddrV2Payload + 1, MaxAddrV2Payload},
		{"reject", MaxRejectPayload + 1, MaxRejectPayload},
	} {
		h := header(Mainnet.Magic, tc.name, tc.length)
		d := NewDecoder(Mainnet.Magic, CrawlerCommands)
		for i := 0; i < HeaderLen; i++ { // partial headers: need more, no verdict yet
			if _, n, err := d.Decode(h[:i]); n != 0 || err != nil {
				t.Fatalf("%s: prefix %d: n=%d %v", tc.name, i, n, err)
			}
		}
		for range 2 {
			_, n, err := d.Decode(h)
			var oe *OversizeError
			if n != 0 || !errors.Is(err, ErrOversized) || !errors.As(err, &oe) || oe.Length != tc.length ||
				oe.Max != tc.max || oe.Name != tc.name {
				t.Fatalf("%s %d: n=%d %v", tc.name, tc.length, n, err)
			}
		}
	}
	// Exactly at the cap is fine: an unwanted 4,000,000-byte block is skipped.
	d := NewDecoder(Mainnet.Magic, CrawlerCommands)
	f, n, err := d.Decode(header(Mainnet.Magic, "block", MaxPayload))
	if err != nil || n != HeaderLen || !f.Skipped || f.Command != CmdBlock || d.Skipping() != MaxPayload {
		t.Fatalf("%+v n=%d %v skipping %d", f, n, err, d.Skipping())
	}
}

// TestDecoderSkipsLargePayload: an unwanted 3 MB payload delivered in 64 KiB
// pieces is swallowed piece by piece; the caller never holds more than one
// piece, and the next frame decodes.
func TestDecoderSkipsLargePayload(t *testing.T) {
	const size, piece = 3_000_000, 64 << 10
	big := make([]byte, size)
	for i := range big {
		big[i] = byte(i * 7) // includes magic-like bytes; must not matter
	}
	copy(big[1000:], Mainnet.Magic[:])
	stream := bytes.Join([][]byte{frame(CmdBlock, big), frame(CmdVerack, nil)}, nil)
	d := NewDecoder(Mainnet.Magic, CrawlerCommands)
	var pending []byte
	var got []Frame
	maxPending := 0
	for off := 0; off < len(stream); off += piece {
		pending = append(pending, stream[off:min(off+piece, len(stream))]...)
		maxPending = max(maxPending, len(pending))
		for {
			f, n, err := d.Decode(pending)
			if err != nil {
				t.Fatal(err)
			}
			if f.Skipped || f.Payload != nil {
				got = append(got, f)
			}
			pending = pending[n:]
			if n == 0 || len(pending) == 0 {
				break
			}
		}
	}
	if len(got) != 2 || got[0].Command != CmdBlock || !got[0].Skipped || got[0].Length != size ||
		got[1].Command != CmdVerack || len(pending) != 0 || d.Skipping() != 0 {
		t.Fatalf("%+v pending %d", got, len(pending))
	}
	if maxPending > piece+HeaderLen {
		t.Fatalf("caller had to hold %d bytes", maxPending)
	}
}

func TestDecoderWanted(t *testing.T) {
	// Only version wanted: a ping is skipped, its payload swallowed.
	d := NewDecoder(Mainnet.Magic, NewCommandSet(CmdVersion))
	res := feed(t, d, [][]byte{frame(CmdPing, make([]byte, 8)), ourVersion})
	if len(res.Frames) != 2 || !res.Frames[0].Skipped || res.Frames[0].Command != CmdPing ||
		res.Frames[1].Skipped || res.Frames[1].Command != CmdVersion {
		t.Fatalf("%+v", res)
	}
	// A command field that is not NUL-padded after its name is unknown.
	h := header(Mainnet.Magic, "verack\x00x", 0)
	f, n, err := d.Decode(h)
	if err != nil || n != HeaderLen || f.Command != CmdUnknown || !f.Skipped || f.NameString() != "verack" {
		t.Fatalf("%+v %d %v", f, n, err)
	}
	for c := CmdVersion; c < numCommands; c++ {
		if CommandFromWire(CommandField(c)) != c || c.String() == "unknown" {
			t.Errorf("command %d %q does not round trip", c, c)
		}
	}
}

func TestChecksumEmpty(t *testing.T) {
	h := sha256.Sum256(nil)
	h = sha256.Sum256(h[:])
	if Checksum(nil) != [4]byte(h[:4]) || Checksum([]byte{}) != [4]byte(h[:4]) {
		t.Fatalf("%x", Checksum(nil))
	}
}
