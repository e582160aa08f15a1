package bip324

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"testing"
)

// testKey returns a deterministic key for tests.
func testKey(t testing.TB, seed string) Key {
	t.Helper()
	k, err := NewKey(sha256.Sum256([]byte("priv"+seed)), sha256.Sum256([]byte("rand"+seed)))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func pair(t testing.TB, ig, rg []byte) (*Conn, *Conn) {
	t.Helper()
	i, err := New(Config{Magic: mainnetMagic, Initiator: true, Key: testKey(t, "i"), Garbage: ig})
	if err != nil {
		t.Fatal(err)
	}
	r, err := New(Config{Magic: mainnetMagic, Key: testKey(t, "r"), Garbage: rg})
	if err != nil {
		t.Fatal(err)
	}
	return i, r
}

// TestNewKeyDecodes: the encoding NewKey makes decodes to the public key's
// x, and differs with the randomness.
func TestNewKeyDecodes(t *testing.T) {
	a, b := testKey(t, "a"), testKey(t, "b")
	c, err := NewKey(a.Priv, sha256.Sum256([]byte("other")))
	if err != nil {
		t.Fatal(err)
	}
	if c.EllSwift == a.EllSwift {
		t.Fatal("same encoding for different randomness")
	}
	xa, _ := decodeX(a.EllSwift)
	xc, _ := decodeX(c.EllSwift)
	xb, _ := decodeX(b.EllSwift)
	if !xa.Equals(xc) || xa.Equals(xb) {
		t.Fatal("encodings do not decode to the key's x")
	}
	if _, err := NewKey([32]byte{}, [32]byte{}); !errors.Is(err, ErrBadPrivKey) {
		t.Fatalf("zero key: %v", err)
	}
}

// run drives both sides to completion over in-memory streams, delivering
// each side's output to the other cut at the given offset of the whole
// stream; it returns what each side received.
func run(t *testing.T, i, r *Conn, iMsgs, rMsgs [][]byte, cutI2R, cutR2I int) (gotR, gotI [][]byte) {
	t.Helper()
	var i2r, r2i []byte // everything each side sent, in order
	i2r = i.Start(i2r)
	posR, posI := 0, 0 // how much of each stream the receiver was given
	var pendR, pendI []byte
	sentI, sentR := false, false
	for step := 0; step < 10000; step++ {
		if i.Keyed() && !sentI {
			for _, m := range iMsgs {
				i2r, _ = i.Seal(i2r, m)
			}
			sentI = true
		}
		if r.Keyed() && !sentR {
			for _, m := range rMsgs {
				r2i, _ = r.Seal(r2i, m)
			}
			sentR = true
		}
		progress := false
		// Deliver to r: first up to the cut, then the rest.
		if posR < len(i2r) {
			end := len(i2r)
			if posR < cutI2R && cutI2R < end {
				end = cutI2R
			}
			pendR = append(pendR, i2r[posR:end]...)
			posR = end
			progress = true
		}
		for {
			n, out, pkt, err := r.Receive(pendR, r2i)
			if err != nil {
				t.Fatalf("responder: %v", err)
			}
			r2i = out
			pendR = pendR[n:]
			if pkt != nil {
				gotR = append(gotR, bytes.Clone(pkt))
			}
			if n == 0 {
				break
			}
			progress = true
		}
		if posI < len(r2i) {
			end := len(r2i)
			if posI < cutR2I && cutR2I < end {
				end = cutR2I
			}
			pendI = append(pendI, r2i[posI:end]...)
			posI = end
			progress = true
		}
		for {
			n, out, pkt, err := i.Receive(pendI, i2r)
			if err != nil {
				t.Fatalf("initiator: %v", err)
			}
			i2r = out
			pendI = pendI[n:]
			if pkt != nil {
				gotI = append(gotI, bytes.Clone(pkt))
			}
			if n == 0 {
				break
			}
			progress = true
		}
		if !progress {
			return gotR, gotI
		}
	}
	t.Fatal("no end")
	return
}

// TestHandshakeSplitEveryOffset: a whole conversation (keys, garbage,
// terminators, version packets, messages both ways) with each direction's
// stream cut at every byte offset.
func TestHandshakeSplitEveryOffset(t *testing.T) {
	ig, rg := bytes.Repeat([]byte{0xaa}, 37), bytes.Repeat([]byte{0x55}, 200)
	iMsgs := [][]byte{AppendMessage(nil, name("version"), []byte("hello")), AppendMessage(nil, name("ping"), make([]byte, 8))}
	rMsgs := [][]byte{AppendMessage(nil, name("verack"), nil), AppendMessage(nil, name("addrv2"), make([]byte, 300))}
	i, r := pair(t, ig, rg)
	total := len(i.Start(nil))
	gotR, gotI := run(t, i, r, iMsgs, rMsgs, -1, -1)
	if len(gotR) != 2 || len(gotI) != 2 || !bytes.Equal(gotR[0], iMsgs[0]) || !bytes.Equal(gotI[1], rMsgs[1]) {
		t.Fatalf("got %d/%d messages", len(gotR), len(gotI))
	}
	if i.SessionID() != r.SessionID() || !i.Open() || !r.Open() {
		t.Fatal("sides disagree")
	}
	if i.GarbageSeen() != len(rg) || r.GarbageSeen() != len(ig) {
		t.Fatalf("garbage seen %d/%d", i.GarbageSeen(), r.GarbageSeen())
	}
	streamI := total + TerminatorLen + LengthOf(0) + LengthOf(len(iMsgs[0])) + LengthOf(len(iMsgs[1]))
	streamR := EllSwiftLen + len(rg) + TerminatorLen + LengthOf(0) + LengthOf(len(rMsgs[0])) + LengthOf(len(rMsgs[1]))
	for cut := 0; cut <= max(streamI, streamR); cut++ {
		i, r := pair(t, ig, rg)
		gotR, gotI := run(t, i, r, iMsgs, rMsgs, cut, cut)
		if len(gotR) != 2 || len(gotI) != 2 || !bytes.Equal(gotR[1], iMsgs[1]) || !bytes.Equal(gotI[0], rMsgs[0]) {
			t.Fatalf("cut %d: got %d/%d messages", cut, len(gotR), len(gotI))
		}
	}
}

func name(s string) [CommandLen]byte {
	var n [CommandLen]byte
	copy(n[:], s)
	return n
}

// TestV1Reply: an initiator that gets a v1 version header back says so at
// the 16th byte, however the bytes arrive; a partial match is no verdict.
func TestV1Reply(t *testing.T) {
	v1 := append(append([]byte{}, mainnetMagic[:]...), "version\x00\x00\x00\x00\x00\x66\x00\x00\x00"...)
	for cut := 0; cut <= len(v1); cut++ {
		i, _ := pair(t, nil, nil)
		i.Start(nil)
		_, err := feed(i, v1[:cut], v1[cut:])
		if !errors.Is(err, ErrV1Reply) {
			t.Fatalf("cut %d: %v", cut, err)
		}
	}
	i, _ := pair(t, nil, nil)
	if _, err := feed(i, v1[:15]); err != nil || i.Keyed() {
		t.Fatalf("15 bytes of the prefix: %v", err)
	}
	// Responder side: a v1 initiator.
	_, r := pair(t, nil, nil)
	if out, err := feed(r, v1); !errors.Is(err, ErrV1Initiator) || len(out) != 0 {
		t.Fatalf("responder: %v", err)
	}
}

// TestGarbageBound: garbage without a terminator stops the scan after
// exactly MaxGarbage+TerminatorLen bytes, having buffered no more.
func TestGarbageBound(t *testing.T) {
	for _, chunk := range []int{1, 7, 4096, 10000} {
		i, r := pair(t, nil, nil)
		rKey := r.Start(nil)
		_ = rKey
		resp := append([]byte{}, r.cfg.Key.EllSwift[:]...)
		resp = append(resp, bytes.Repeat([]byte{0x42}, 20000)...)
		i.Start(nil)
		var consumed int
		var err error
		for consumed < len(resp) && err == nil {
			end := min(consumed+chunk, len(resp))
			var n int
			n, _, _, err = i.Receive(resp[consumed:end], nil)
			consumed += n
			if n == 0 && err == nil {
				t.Fatalf("chunk %d: stalled at %d", chunk, consumed)
			}
		}
		if !errors.Is(err, ErrNoTerminator) || consumed != EllSwiftLen+MaxGarbage+TerminatorLen {
			t.Fatalf("chunk %d: %v after %d bytes", chunk, err, consumed)
		}
		if cap(i.garbage) > MaxGarbage+TerminatorLen {
			t.Fatalf("garbage buffer grew to %d", cap(i.garbage))
		}
	}
	// A terminator as the very last allowed byte is still found.
	i, r := pair(t, nil, bytes.Repeat([]byte{1}, MaxGarbage))
	if got, _ := run(t, i, r, [][]byte{{1, 2}}, nil, -1, -1); len(got) != 1 {
		t.Fatal("max garbage not accepted")
	}
}

// TestOversizedAndBadTag: a length over the cap is refused before its packet
// is buffered; a flipped bit fails the tag.
func TestOversizedAndBadTag(t *testing.T) {
	i, r := pair(t, nil, nil)
	run(t, i, r, nil, nil, -1, -1)
	big := make([]byte, 100)
	i.cfg.MaxContents = 99
	pkt, _ := r.Seal(nil, big)
	n, _, _, err := i.Receive(pkt, nil)
	var oe *OversizeError
	if !errors.As(err, &oe) || n != LengthLen || oe.Length != 100 || cap(i.buf) > 512 {
		t.Fatalf("oversized: %v n=%d buf=%d", err, n, cap(i.buf))
	}
	if _, _, _, err := i.Receive(pkt[n:], nil); err == nil {
		t.Fatal("a dead conn accepted bytes")
	}
	i, r = pair(t, nil, nil)
	run(t, i, r, nil, nil, -1, -1)
	pkt, _ = r.Seal(nil, []byte{18, 1, 2, 3, 4, 5, 6, 7, 8})
	pkt[len(pkt)-1] ^= 1
	if _, err := feed(i, pkt); !errors.Is(err, ErrBadTag) {
		t.Fatalf("bad tag: %v", err)
	}
}

// TestRekeyManyPackets: 1000 packets each way (four rekeys) decrypt.
func TestRekeyManyPackets(t *testing.T) {
	var msgs [][]byte
	for k := 0; k < 1000; k++ {
		msgs = append(msgs, AppendMessage(nil, name("ping"), []byte{byte(k), byte(k >> 8), 0, 0, 0, 0, 0, 0}))
	}
	i, r := pair(t, nil, nil)
	gotR, gotI := run(t, i, r, msgs, msgs, -1, -1)
	if len(gotR) != 1000 || len(gotI) != 1000 || !bytes.Equal(gotR[999], msgs[999]) {
		t.Fatalf("%d/%d", len(gotR), len(gotI))
	}
}

// TestMessageIDs: short IDs both ways, long types, unassigned IDs.
func TestMessageIDs(t *testing.T) {
	for id, n := range shortIDs {
		if id == 0 {
			continue
		}
		c := AppendMessage(nil, name(n), []byte{9})
		if len(c) != 2 || c[0] != byte(id) {
			t.Fatalf("%s: %x", n, c)
		}
		got, p, err := ParseMessage(c)
		if err != nil || got != name(n) || !bytes.Equal(p, []byte{9}) {
			t.Fatalf("%s: %q %x %v", n, got, p, err)
		}
	}
	c := AppendMessage(nil, name("version"), []byte{1})
	if len(c) != 14 || c[0] != 0 {
		t.Fatalf("version: %x", c)
	}
	if got, p, err := ParseMessage(c); err != nil || got != name("version") || len(p) != 1 {
		t.Fatal("long type")
	}
	for _, bad := range [][]byte{nil, {0, 'v'}, {29}, {255}} {
		if _, _, err := ParseMessage(bad); !errors.Is(err, ErrBadMessage) {
			t.Fatalf("%x: %v", bad, err)
		}
	}
}
