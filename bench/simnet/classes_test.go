package simnet

import (
	"bytes"
	"encoding/binary"
	"errors"
	"net"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/btcsuite/btcd/wire/v2"

	"github.com/nodesweep/nodesweep/codec"
)

type rawFrame struct {
	cmd        string
	length     uint32
	payload    []byte // nil if the frame is cut short
	checksumOK bool
}

// splitFrames cuts b, which must start with a header, into frames.
func splitFrames(b []byte) (frames []rawFrame, rest []byte) {
	for len(b) >= 24 {
		f := rawFrame{cmd: string(bytes.TrimRight(b[4:16], "\x00")), length: binary.LittleEndian.Uint32(b[16:20])}
		if uint64(len(b)-24) < uint64(f.length) {
			frames = append(frames, f)
			return frames, b
		}
		f.payload = b[24 : 24+f.length]
		f.checksumOK = codec.Checksum(f.payload) == [4]byte(b[20:24])
		frames = append(frames, f)
		b = b[24+f.length:]
	}
	return frames, b
}

func hostileNet(t *testing.T) *Network {
	return startNet(t, Config{Profile: ProfileHostile, Nodes: 2000, Seed: 9,
		SlowDelay: time.Second, IdleTimeout: 3 * time.Second, LatencyMin: 0, LatencyMax: time.Millisecond})
}

func TestRefusedIsFast(t *testing.T) {
	n := hostileNet(t)
	id := findIdentity(t, n, ClassRefused, nil)
	start := time.Now()
	_, err := dialAddr(t, id.Addr, time.Second)
	if !errors.Is(err, syscall.ECONNREFUSED) || time.Since(start) > 200*time.Millisecond {
		t.Fatalf("refused %s: %v after %v", id.Addr, err, time.Since(start))
	}
}

func TestBlackholedTimesOut(t *testing.T) {
	n := hostileNet(t)
	var ids []Identity
	for i := 0; i < n.Size() && len(ids) < 3; i++ {
		if id := n.Identity(i); id.Class == ClassBlackholed {
			ids = append(ids, id)
		}
	}
	errs := make(chan error, len(ids))
	start := time.Now()
	for _, id := range ids {
		go func() {
			c, err := dialAddr(t, id.Addr, time.Second)
			if err == nil {
				c.Close()
			}
			errs <- err
		}()
	}
	for range ids {
		err := <-errs
		var ne net.Error
		if !errors.As(err, &ne) || !ne.Timeout() {
			t.Errorf("blackholed dial: %v, want a timeout", err)
		}
	}
	if d := time.Since(start); d < 900*time.Millisecond {
		t.Errorf("blackholed dials ended after %v", d)
	}
}

func TestSilentSlowClosesEarly(t *testing.T) {
	n := hostileNet(t)
	t.Run("silent", func(t *testing.T) {
		t.Parallel()
		c := mustDial(t, findIdentity(t, n, ClassSilent, nil))
		sendRawVersion(t, n, c)
		if b, _ := readRaw(c, 300*time.Millisecond, 1<<20); len(b) != 0 {
			t.Errorf("silent node sent %d bytes", len(b))
		}
	})
	t.Run("slow", func(t *testing.T) {
		t.Parallel()
		id := findIdentity(t, n, ClassSlow, nil)
		c := mustDial(t, id)
		w := &wireClient{t: t, c: c, net: btcnet(n)}
		start := time.Now()
		r, err := w.crawl(true, 3*time.Second)
		if err != nil || r.version == nil || r.version.UserAgent != id.UserAgent {
			t.Fatalf("slow: %v %v", err, r.commands)
		}
		if d := time.Since(start); d < time.Second {
			t.Errorf("slow node answered after %v", d)
		}
	})
	t.Run("closes-early", func(t *testing.T) {
		t.Parallel()
		c := mustDial(t, findIdentity(t, n, ClassClosesEarly, nil))
		sendRawVersion(t, n, c)
		b, err := readRaw(c, 2*time.Second, 1<<20)
		if len(b) != 0 || err != nil { // io.Copy returns nil at EOF
			t.Errorf("closes-early: %d bytes, %v", len(b), err)
		}
	})
}

func mustDial(t *testing.T, id Identity) net.Conn {
	t.Helper()
	c, err := dialAddr(t, id.Addr, time.Second)
	if err != nil {
		t.Fatalf("%s (%s): %v", id.Addr, id.Class, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// Every hostile kind sends what it claims.
func TestHostileKinds(t *testing.T) {
	n := hostileNet(t)
	magic := n.Config().Network.Magic
	// afterVersion: what arrives in d after our version.
	afterVersion := func(t *testing.T, k Class, d time.Duration) []byte {
		c := mustDial(t, findIdentity(t, n, k, nil))
		sendRawVersion(t, n, c)
		b, _ := readRaw(c, d, 4<<20)
		return b
	}
	// afterGetAddr: a wire-level crawl up to getaddr, then what arrives in d.
	afterGetAddr := func(t *testing.T, k Class, sendV2 bool, d time.Duration) []byte {
		c := mustDial(t, findIdentity(t, n, k, nil))
		w := &wireClient{t: t, c: c, net: btcnet(n)}
		w.send(ourVersion(t))
		if sendV2 {
			w.send(wire.NewMsgSendAddrV2())
		}
		w.send(wire.NewMsgVerAck())
		w.send(wire.NewMsgGetAddr())
		b, _ := readRaw(c, d, 8<<20)
		return b
	}
	checks := map[Class]func(t *testing.T){
		HostileGarbagePrefix: func(t *testing.T) {
			b := afterVersion(t, HostileGarbagePrefix, 300*time.Millisecond)
			i := bytes.Index(b, magic[:])
			if i < 50 {
				t.Fatalf("magic at %d, want garbage first", i)
			}
			if fs, _ := splitFrames(b[i:]); len(fs) == 0 || fs[0].cmd != "version" || !fs[0].checksumOK {
				t.Fatalf("no valid version after the garbage: %+v", fs)
			}
		},
		HostileGarbageBetween: func(t *testing.T) {
			b := afterVersion(t, HostileGarbageBetween, 300*time.Millisecond)
			fs, rest := splitFrames(b)
			if len(fs) == 0 || fs[0].cmd != "version" || bytes.HasPrefix(b[24+fs[0].length:], magic[:]) {
				t.Fatalf("want version then garbage: %+v (%d left)", fs, len(rest))
			}
		},
		HostileWrongMagic: func(t *testing.T) {
			b := afterVersion(t, HostileWrongMagic, 300*time.Millisecond)
			if !bytes.HasPrefix(b, Testnet3.Magic[:]) {
				t.Fatalf("want testnet3 magic, got % x", b[:min(8, len(b))])
			}
		},
		HostileBadChecksum: func(t *testing.T) {
			fs, _ := splitFrames(afterVersion(t, HostileBadChecksum, 300*time.Millisecond))
			if len(fs) != 1 || fs[0].cmd != "version" || fs[0].checksumOK {
				t.Fatalf("want one version with a bad checksum: %+v", fs)
			}
		},
		HostileLengthMax: func(t *testing.T) {
			fs, _ := splitFrames(afterVersion(t, HostileLengthMax, 300*time.Millisecond))
			if len(fs) != 1 || fs[0].length != 0xFFFFFFFF {
				t.Fatalf("want a header of length 0xFFFFFFFF: %+v", fs)
			}
		},
		HostileLength4000001: func(t *testing.T) {
			fs, _ := splitFrames(afterVersion(t, HostileLength4000001, 300*time.Millisecond))
			if len(fs) != 1 || fs[0].length != 4_000_001 {
				t.Fatalf("want a header of length 4,000,001: %+v", fs)
			}
		},
		HostileHugeUserAgent: func(t *testing.T) {
			b := afterVersion(t, HostileHugeUserAgent, 300*time.Millisecond)
			fs, _ := splitFrames(b)
			if len(fs) != 1 || !fs[0].checksumOK || fs[0].payload[80] != 0xff ||
				binary.LittleEndian.Uint64(fs[0].payload[81:]) != 1<<32 {
				t.Fatalf("want a version claiming a 2^32-byte user agent: %+v", fs)
			}
			var v wire.MsgVersion
			if err := v.BtcDecode(bytes.NewBuffer(fs[0].payload), wire.ProtocolVersion, wire.BaseEncoding); err == nil {
				t.Error("btcd decoded the huge user agent")
			}
		},
		HostileTruncatedVersion: func(t *testing.T) {
			fs, _ := splitFrames(afterVersion(t, HostileTruncatedVersion, 300*time.Millisecond))
			if len(fs) != 1 || fs[0].cmd != "version" || len(fs[0].payload) != 20 || !fs[0].checksumOK {
				t.Fatalf("want a well-framed 20-byte version: %+v", fs)
			}
		},
		HostileVersionThenSilence: func(t *testing.T) {
			fs, rest := splitFrames(afterVersion(t, HostileVersionThenSilence, 300*time.Millisecond))
			if len(fs) != 1 || fs[0].cmd != "version" || len(rest) != 0 {
				t.Fatalf("want a version alone: %+v", fs)
			}
		},
		HostileSlowloris: func(t *testing.T) {
			b := afterVersion(t, HostileSlowloris, 1500*time.Millisecond)
			if len(b) < 1 || len(b) > 3 || b[0] != magic[0] {
				t.Fatalf("want one byte a second, got % x", b)
			}
		},
		HostileInvFlood: func(t *testing.T) {
			b := afterGetAddr(t, HostileInvFlood, true, 500*time.Millisecond)
			fs, _ := splitFrames(b)
			inv := 0
			for _, f := range fs {
				if f.cmd == "inv" || f.cmd == "nodesweep?!" {
					inv++
				}
			}
			if inv < 100 {
				t.Fatalf("flood: %d inv/unknown messages in %d bytes", inv, len(b))
			}
		},
		HostileAddrSpam: func(t *testing.T) {
			fs, _ := splitFrames(afterGetAddr(t, HostileAddrSpam, false, 500*time.Millisecond))
			addrs := 0
			for _, f := range fs {
				if f.cmd == "addr" {
					var m wire.MsgAddr
					if err := m.BtcDecode(bytes.NewReader(f.payload), wire.ProtocolVersion, wire.BaseEncoding); err != nil || len(m.AddrList) != 1000 {
						t.Fatalf("addr spam message: %v, %d entries", err, len(m.AddrList))
					}
					addrs++
				}
			}
			if addrs != 10 {
				t.Fatalf("want 10 addr messages, got %d", addrs)
			}
		},
		HostileAddrClaim50k: func(t *testing.T) {
			fs, _ := splitFrames(afterGetAddr(t, HostileAddrClaim50k, false, 300*time.Millisecond))
			f := fs[len(fs)-1]
			if f.cmd != "addr" || !bytes.HasPrefix(f.payload, []byte{0xfd, 0x50, 0xc3}) {
				t.Fatalf("want addr claiming 50,000: %+v", fs)
			}
		},
		HostileAddrV2Bad: func(t *testing.T) {
			fs, _ := splitFrames(afterGetAddr(t, HostileAddrV2Bad, true, 300*time.Millisecond))
			f := fs[len(fs)-1]
			var m wire.MsgAddrV2
			err := m.BtcDecode(bytes.NewReader(f.payload), wire.ProtocolVersion, wire.BaseEncoding)
			if f.cmd != "addrv2" || err == nil {
				t.Fatalf("want an addrv2 btcd rejects: %s %v", f.cmd, err)
			}
		},
		HostileDuplicateVersion: func(t *testing.T) {
			fs, _ := splitFrames(afterVersion(t, HostileDuplicateVersion, 300*time.Millisecond))
			if len(fs) < 2 || fs[0].cmd != "version" || fs[1].cmd != "version" {
				t.Fatalf("want two versions: %+v", fs)
			}
		},
		HostileVerackFirst: func(t *testing.T) {
			fs, _ := splitFrames(afterVersion(t, HostileVerackFirst, 300*time.Millisecond))
			if len(fs) < 2 || fs[0].cmd != "verack" || fs[1].cmd != "version" {
				t.Fatalf("want verack then version: %+v", fs)
			}
		},
		HostileRST: func(t *testing.T) {
			// On loopback the reset can beat connect() itself.
			c, err := dialAddr(t, findIdentity(t, n, HostileRST, nil).Addr, time.Second)
			if err == nil {
				_, err = readRaw(c, time.Second, 100)
				c.Close()
			}
			if !errors.Is(err, syscall.ECONNRESET) {
				t.Fatalf("want a reset, got %v", err)
			}
		},
		HostileCloseMidMessage: func(t *testing.T) {
			b := afterVersion(t, HostileCloseMidMessage, time.Second)
			fs, _ := splitFrames(b)
			if len(b) == 0 || len(fs) != 1 || fs[0].payload != nil {
				t.Fatalf("want half a version then EOF: %d bytes %+v", len(b), fs)
			}
		},
	}
	for _, k := range AllHostileKinds {
		check := checks[k]
		if check == nil {
			t.Errorf("no test for %s", k)
			continue
		}
		t.Run(k.String(), func(t *testing.T) { t.Parallel(); check(t) })
	}
}

// The flaky classes fail the first connection (reset, or silence) and
// complete the handshake on the next.
func TestFlakyFailsFirstOnly(t *testing.T) {
	n := startNet(t, Config{Profile: ProfileHealthy, Nodes: 200, Seed: 3, IdleTimeout: time.Second,
		Mix: Mix{ClassReachable: 0.5, ClassFlakyReset: 0.25, ClassFlakySilent: 0.25}})
	for _, c := range []Class{ClassFlakyReset, ClassFlakySilent} {
		id := findIdentity(t, n, c, nil)
		// On loopback the reset can beat connect() itself.
		first, err := dialAddr(t, id.Addr, time.Second)
		if err == nil {
			// The reset may also beat our version: a failed write is it.
			first.SetWriteDeadline(time.Now().Add(5 * time.Second))
			if _, err = wire.WriteMessageN(first, ourVersion(t), wire.ProtocolVersion, btcnet(n)); err == nil {
				var b []byte
				b, err = readRaw(first, 300*time.Millisecond, 1<<16)
				if len(b) != 0 {
					t.Fatalf("%s: first connection got %d bytes (err %v)", c, len(b), err)
				}
			}
			first.Close()
		}
		if c == ClassFlakyReset && (err == nil || !strings.Contains(err.Error(), "reset")) {
			t.Fatalf("%s: first connection: %v, want a reset", c, err)
		}
		w := &wireClient{t: t, c: mustDial(t, id), net: btcnet(n)}
		r, err := w.crawl(true, 3*time.Second)
		if err != nil || r.version == nil || !r.verack || (r.addrV1 == nil && r.addrV2 == nil) {
			t.Fatalf("%s: second connection: %v, %v", c, err, r.commands)
		}
	}
}
