package bip324

import (
	"testing"
)

// fuzzSplit feeds data to c in chunks whose sizes come from the first
// bytes, and checks the bounds a peer must not be able to break.
func fuzzSplit(t *testing.T, c *Conn, data []byte, chunk int) {
	var pending []byte
	for len(data) > 0 || len(pending) > 0 {
		k := min(len(data), chunk)
		pending = append(pending, data[:k]...)
		data = data[k:]
		for {
			n, _, pkt, err := c.Receive(pending, nil)
			if n < 0 || n > len(pending) {
				t.Fatalf("consumed %d of %d", n, len(pending))
			}
			pending = pending[n:]
			if pkt != nil && len(pkt) > c.cfg.MaxContents {
				t.Fatalf("packet of %d over the cap", len(pkt))
			}
			if cap(c.garbage) > MaxGarbage+TerminatorLen {
				t.Fatalf("garbage buffer %d", cap(c.garbage))
			}
			if cap(c.buf) > max(512, LengthOf(c.cfg.MaxContents)) {
				t.Fatalf("packet buffer %d", cap(c.buf))
			}
			if err != nil {
				return
			}
			if n == 0 {
				break
			}
		}
		if k == 0 {
			return
		}
	}
}

// FuzzInitiator: anything a responder may send to our initiator, from its
// first byte.
func FuzzInitiator(f *testing.F) {
	i, r := pair(f, nil, []byte("garbage"))
	out := r.Start(nil)
	i2r := i.Start(nil)
	_, out, _, _ = r.Receive(i2r, out)
	out, _ = r.Seal(out, AppendMessage(nil, name("verack"), nil))
	f.Add(out, uint16(1))
	f.Add(out, uint16(70))
	f.Add(append(append([]byte{}, mainnetMagic[:]...), "version\x00\x00\x00\x00\x00"...), uint16(3))
	f.Fuzz(func(t *testing.T, data []byte, chunk uint16) {
		c, err := New(Config{Magic: mainnetMagic, Initiator: true, Key: testKey(t, "i"), MaxContents: 1 << 16})
		if err != nil {
			t.Fatal(err)
		}
		c.Start(nil)
		fuzzSplit(t, c, data, max(1, int(chunk)))
	})
}

// FuzzPackets: anything after a completed handshake (lengths, tags, decoys).
func FuzzPackets(f *testing.F) {
	i, r := pair(f, nil, nil)
	i2r := i.Start(nil)
	r2i := r.Start(nil)
	_, r2i, _, _ = r.Receive(i2r, r2i)
	r2i, _ = r.Seal(r2i, AppendMessage(nil, name("ping"), make([]byte, 8)))
	r2i, _ = r.SealDecoy(r2i, []byte{1, 2, 3})
	f.Add(r2i[EllSwiftLen:], uint16(5))
	f.Add([]byte{0xff, 0xff, 0xff}, uint16(1))
	f.Fuzz(func(t *testing.T, data []byte, chunk uint16) {
		i, r := pair(t, nil, nil)
		i2r := i.Start(nil)
		r2i := r.Start(nil)
		_, r2i, _, _ = r.Receive(i2r, r2i)
		c := i
		c.cfg.MaxContents = 1 << 16
		if _, _, _, err := c.Receive(r2i[:EllSwiftLen], nil); err != nil {
			t.Fatal(err)
		}
		fuzzSplit(t, c, data, max(1, int(chunk)))
	})
}

// FuzzParseMessage: packet contents to command and payload.
func FuzzParseMessage(f *testing.F) {
	f.Add(AppendMessage(nil, name("version"), []byte{1, 2}))
	f.Add([]byte{28, 0})
	f.Add([]byte{0})
	f.Fuzz(func(t *testing.T, data []byte) {
		n, p, err := ParseMessage(data)
		if err != nil {
			return
		}
		again := AppendMessage(nil, n, p)
		if n2, p2, err := ParseMessage(again); err != nil || n2 != n || string(p2) != string(p) {
			t.Fatalf("round trip %x → %q %x", data, n2, p2)
		}
	})
}
