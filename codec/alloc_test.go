package codec

import (
	"bytes"
	"testing"
)

var (
	sinkVersion Version
	sinkEntries []AddrEntry
	sinkInt     int
	sinkBytes   []byte
)

// TestAllocs proves the allocation budget: framing 0, addr/addrv2 into a
// pre-sized slice 0, version at most 1 (the user agent string), ping 0,
// encoders into a pre-sized buffer 0.
func TestAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are meaningless under the race detector")
	}
	vs := vectors(t)
	addr1000 := benchAddrFrame(t)
	addrv21000 := benchAddrV2Frame(t)
	stream := bytes.Join([][]byte{[]byte("garbage"), vs["btcd ping"], vs["btcd inv"], addr1000}, nil)
	dst := make([]AddrEntry, 0, MaxAddrEntries)
	v, _ := DecodeVersion(payloadOf(ourVersion))
	buf := make([]byte, 0, 64<<10)
	entries, _ := DecodeAddr(payloadOf(addr1000), 70016, nil)
	for _, tc := range []struct {
		name string
		max  float64
		f    func()
	}{
		{"Decoder.Decode frames", 0, func() {
			d := Decoder{magic: Mainnet.Magic, wanted: CrawlerCommands}
			for _, fr := range [][]byte{ourVersion, vs["btcd addrv2"], addr1000, addrv21000, vs["btcd verack"], vs["btcd inv"]} {
				f, n, err := d.Decode(fr)
				sinkInt += n + int(f.Length)
				if err != nil || n == 0 {
					panic(err)
				}
				if f.Skipped { // swallow the skipped payload
					_, n, _ = d.Decode(fr[n:])
					sinkInt += n
				}
			}
		}},
		{"Decoder.Decode need-more and skip", 0, func() {
			d := Decoder{magic: Mainnet.Magic, wanted: CrawlerCommands}
			for i := 1; i < len(ourVersion); i += 7 {
				_, n, _ := d.Decode(ourVersion[:i])
				sinkInt += n
			}
			// Skip the garbage prefix (the error allocates), then frames.
			rest := stream[len("garbage"):]
			for len(rest) > 0 {
				_, n, err := d.Decode(rest)
				if err != nil || n == 0 {
					panic(err)
				}
				rest = rest[n:]
			}
		}},
		{"DecodeVersion", 1, func() { sinkVersion, _ = DecodeVersion(payloadOf(ourVersion)) }},
		{"DecodeVersion without user agent", 0, func() { sinkVersion, _ = DecodeVersion(versionBase) }},
		{"DecodeAddr 1000", 0, func() { sinkEntries, _ = DecodeAddr(payloadOf(addr1000), 70016, dst[:0]) }},
		{"DecodeAddrV2 1000", 0, func() { sinkEntries, sinkInt, _ = DecodeAddrV2(payloadOf(addrv21000), dst[:0]) }},
		{"DecodeAddrV2 every network", 0, func() { sinkEntries, sinkInt, _ = DecodeAddrV2(v2All, dst[:0]) }},
		{"DecodePing", 0, func() { n, _ := DecodePing(payloadOf(vs["btcd ping"])); sinkInt += int(n) }},
		{"AppendVersionMessage", 0, func() { sinkBytes = AppendVersionMessage(buf[:0], Mainnet.Magic, &v) }},
		{"AppendAddr 1000", 0, func() { sinkBytes = AppendAddr(buf[:0], 70016, entries) }},
		{"AppendAddrV2 1000", 0, func() { sinkBytes = AppendAddrV2(buf[:0], entries) }},
		{"AppendPongMessage", 0, func() { sinkBytes = AppendPongMessage(buf[:0], Mainnet.Magic, 1) }},
		{"AppendFrame verack", 0, func() { sinkBytes = AppendFrame(buf[:0], Mainnet.Magic, CmdVerack, nil) }},
	} {
		if got := testing.AllocsPerRun(50, tc.f); got > tc.max {
			t.Errorf("%s: %v allocs, want <= %v", tc.name, got, tc.max)
		}
	}
}
