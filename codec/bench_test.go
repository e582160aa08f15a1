package codec

import (
	"bytes"
	"math/rand"
	"net"
	"testing"
	"time"

	"github.com/btcsuite/btcd/wire/v2"
)

// The benchmarks decode the same frame bytes with our Decoder and parser and
// with btcd's wire.ReadMessageN (pver 70016, mainnet). Results and the
// command that produced them are in README.md.

// benchVersionFrame is a modern version message as btcd encodes it.
func benchVersionFrame(t testing.TB) []byte {
	me := wire.NewNetAddressIPPort(net.ParseIP("203.0.113.9"), 8333, wire.SFNodeNetwork|wire.SFNodeWitness)
	m := wire.NewMsgVersion(me, me, 0x1234, 920000)
	m.Timestamp = time.Unix(1763780000, 0)
	m.UserAgent = "/Satoshi:29.0.0/"
	m.Services = wire.SFNodeNetwork | wire.SFNodeWitness | wire.SFNodeNetworkLimited | wire.SFNodeP2PV2
	return btcdFrame(t, m, 70016)
}

// benchAddrFrame: 1000 entries, half IPv4, half IPv6, encoded by btcd.
func benchAddrFrame(t testing.TB) []byte {
	r := rand.New(rand.NewSource(1))
	m := wire.NewMsgAddr()
	for i := range MaxAddrEntries {
		ip := make(net.IP, 16)
		r.Read(ip)
		if i%2 == 0 {
			ip = net.IPv4(ip[0], ip[1], ip[2], ip[3])
		} else {
			ip[0] = 0x2a
		}
		_ = m.AddAddress(wire.NewNetAddressTimestamp(time.Unix(1763780000-int64(r.Intn(86400*7)), 0),
			wire.SFNodeNetwork|wire.SFNodeWitness, ip, 8333))
	}
	return btcdFrame(t, m, 70016)
}

// benchAddrV2Frame: 1000 entries of the networks btcd can decode (IPv4,
// IPv6, TorV2, TorV3 in turn), so that both sides decode every entry.
func benchAddrV2Frame(t testing.TB) []byte {
	r := rand.New(rand.NewSource(2))
	m := wire.NewMsgAddrV2()
	for i := range MaxAddrEntries {
		raw := make([]byte, [4]int{4, 16, 10, 32}[i%4])
		r.Read(raw)
		if len(raw) == 16 {
			raw[0] = 0x2a
		}
		m.AddrList = append(m.AddrList, wire.NetAddressV2FromBytes(time.Unix(1763780000-int64(r.Intn(86400*7)), 0),
			wire.SFNodeNetwork|wire.SFNodeWitness, raw, 8333))
	}
	return btcdFrame(t, m, 70016)
}

func benchBoth(b *testing.B, fr []byte, ours func(p []byte) int) {
	b.Run("nodesweep", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(fr)))
		d := NewDecoder(Mainnet.Magic, CrawlerCommands)
		cpu := processCPU()
		for b.Loop() {
			f, n, err := d.Decode(fr)
			if err != nil || n != len(fr) {
				b.Fatal(err)
			}
			if ours(f.Payload) < 0 {
				b.Fatal("decode failed")
			}
		}
		reportCPU(b, cpu)
	})
	b.Run("btcd", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(fr)))
		rd := bytes.NewReader(fr)
		cpu := processCPU()
		for b.Loop() {
			rd.Reset(fr)
			if _, _, _, err := wire.ReadMessageN(rd, 70016, wire.MainNet); err != nil {
				b.Fatal(err)
			}
		}
		reportCPU(b, cpu)
	})
}

// reportCPU adds the process CPU time per operation since start
// ("cpu-ns/op", GC included; see processCPU).
func reportCPU(b *testing.B, start time.Duration) {
	if start == 0 || b.N == 0 {
		return
	}
	b.ReportMetric(float64(processCPU()-start)/float64(b.N), "cpu-ns/op")
}

func BenchmarkDecodeVersion(b *testing.B) {
	benchBoth(b, benchVersionFrame(b), func(p []byte) int {
		v, err := DecodeVersion(p)
		if err != nil {
			return -1
		}
		sinkVersion = v
		return 0
	})
}

func BenchmarkDecodeAddr1000(b *testing.B) {
	dst := make([]AddrEntry, 0, MaxAddrEntries)
	benchBoth(b, benchAddrFrame(b), func(p []byte) int {
		e, err := DecodeAddr(p, 70016, dst[:0])
		if err != nil || len(e) != MaxAddrEntries {
			return -1
		}
		return 0
	})
}

func BenchmarkDecodeAddrV21000(b *testing.B) {
	dst := make([]AddrEntry, 0, MaxAddrEntries)
	benchBoth(b, benchAddrV2Frame(b), func(p []byte) int {
		e, _, err := DecodeAddrV2(p, dst[:0])
		if err != nil || len(e) != MaxAddrEntries {
			return -1
		}
		return 0
	})
}

// BenchmarkFraming is the Decoder alone: header checks and the checksum.
func BenchmarkFraming(b *testing.B) {
	for name, fr := range map[string][]byte{"verack": frame(CmdVerack, nil), "addr1000": benchAddrFrame(b)} {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(fr)))
			d := NewDecoder(Mainnet.Magic, CrawlerCommands)
			cpu := processCPU()
			for b.Loop() {
				if _, n, err := d.Decode(fr); err != nil || n != len(fr) {
					b.Fatal(err)
				}
			}
			reportCPU(b, cpu)
		})
	}
}
