package bip324

import (
	"bytes"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"os"
	"strconv"
	"testing"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcec/v2/ellswift"
)

// readCSV returns the rows of a test-vector file as maps by column name.
func readCSV(t *testing.T, name string) []map[string]string {
	t.Helper()
	f, err := os.Open("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var out []map[string]string
	for _, r := range rows[1:] {
		m := map[string]string{}
		for i, h := range rows[0] {
			m[h] = r[i]
		}
		out = append(out, m)
	}
	return out
}

func unhex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatalf("bad hex %q: %v", s, err)
	}
	return b
}

func fieldVal(b []byte) *btcec.FieldVal {
	var f btcec.FieldVal
	f.SetByteSlice(b)
	f.Normalize()
	return &f
}

func fieldHex(f *btcec.FieldVal) string {
	f.Normalize()
	b := f.Bytes()
	return hex.EncodeToString(b[:])
}

// TestEllSwiftDecodeVectors: BIP324's ellswift_decode vectors (XSwiftEC),
// through the same decode the key exchange uses.
func TestEllSwiftDecodeVectors(t *testing.T) {
	rows := readCSV(t, "ellswift_decode_test_vectors.csv")
	if len(rows) != 76 {
		t.Fatalf("%d vectors, want 76", len(rows))
	}
	for i, r := range rows {
		enc := unhex(t, r["ellswift"])
		x, err := decodeX([EllSwiftLen]byte(enc))
		if err != nil {
			t.Fatalf("vector %d (%s): %v", i, r["comment"], err)
		}
		if got := fieldHex(x); got != r["x"] {
			t.Errorf("vector %d (%s): x = %s, want %s", i, r["comment"], got, r["x"])
		}
	}
}

// TestXSwiftECInvVectors: BIP324's xswiftec_inv vectors, every case of every
// row (an empty cell means the case has no solution).
func TestXSwiftECInvVectors(t *testing.T) {
	rows := readCSV(t, "xswiftec_inv_test_vectors.csv")
	if len(rows) != 32 {
		t.Fatalf("%d vectors, want 32", len(rows))
	}
	cases := 0
	for i, r := range rows {
		for c := 0; c < 8; c++ {
			u, x := fieldVal(unhex(t, r["u"])), fieldVal(unhex(t, r["x"]))
			want := r["case"+strconv.Itoa(c)+"_t"]
			got := ellswift.XSwiftECInv(u, x, c)
			cases++
			switch {
			case want == "" && got != nil:
				t.Errorf("vector %d case %d: t = %s, want none", i, c, fieldHex(got))
			case want != "" && got == nil:
				t.Errorf("vector %d case %d: no t, want %s", i, c, want)
			case want != "" && fieldHex(got) != want:
				t.Errorf("vector %d case %d: t = %s, want %s", i, c, fieldHex(got), want)
			case want != "":
				// And it round-trips through the decoder.
				var enc [EllSwiftLen]byte
				copy(enc[:32], unhex(t, r["u"]))
				copy(enc[32:], unhex(t, want))
				if xx, err := decodeX(enc); err != nil || fieldHex(xx) != r["x"] {
					t.Errorf("vector %d case %d: decode(u,t) = %v, %v; want x %s", i, c, xx, err, r["x"])
				}
			}
		}
	}
	if cases != 256 {
		t.Fatalf("%d cases", cases)
	}
}

type packetVector struct {
	idx                             int
	priv, ellOurs, ellTheirs        []byte
	initiating, ignore              bool
	contents, aad                   []byte
	xOurs, xTheirs, xShared, secret string
	initL, initP, respL, respP      string
	sendTerm, recvTerm, sessionID   string
	ciphertext, ciphertextEnd       []byte
	multiply                        int
}

func packetVectors(t *testing.T) []packetVector {
	var out []packetVector
	for _, r := range readCSV(t, "packet_encoding_test_vectors.csv") {
		idx, _ := strconv.Atoi(r["in_idx"])
		mul, _ := strconv.Atoi(r["in_multiply"])
		v := packetVector{
			idx: idx, priv: unhex(t, r["in_priv_ours"]), ellOurs: unhex(t, r["in_ellswift_ours"]),
			ellTheirs: unhex(t, r["in_ellswift_theirs"]), initiating: r["in_initiating"] == "1",
			ignore: r["in_ignore"] == "1", contents: bytes.Repeat(unhex(t, r["in_contents"]), mul),
			aad: unhex(t, r["in_aad"]), xOurs: r["mid_x_ours"], xTheirs: r["mid_x_theirs"],
			xShared: r["mid_x_shared"], secret: r["mid_shared_secret"], initL: r["mid_initiator_l"],
			initP: r["mid_initiator_p"], respL: r["mid_responder_l"], respP: r["mid_responder_p"],
			sendTerm: r["mid_send_garbage_terminator"], recvTerm: r["mid_recv_garbage_terminator"],
			sessionID: r["out_session_id"], ciphertext: unhex(t, r["out_ciphertext"]),
			ciphertextEnd: unhex(t, r["out_ciphertext_endswith"]), multiply: mul,
		}
		out = append(out, v)
	}
	if len(out) != 7 {
		t.Fatalf("%d packet vectors, want 7", len(out))
	}
	return out
}

var mainnetMagic = [4]byte{0xf9, 0xbe, 0xb4, 0xd9}

// TestPacketVectors: BIP324's packet_encoding vectors. For each: the key
// exchange (x coordinates, shared secret, every derived key, terminators,
// session id) through the Conn a session uses, then the in_idx-th packet
// sent (after in_idx empty decoys), and its decryption by the other side's
// receive ciphers, fed split at every byte offset (for the two packets of
// megabytes: the offsets around the length, the header and the tag).
func TestPacketVectors(t *testing.T) {
	for _, v := range packetVectors(t) {
		t.Run(strconv.Itoa(v.idx), func(t *testing.T) {
			key := Key{Priv: [32]byte(v.priv), EllSwift: [64]byte(v.ellOurs)}
			var n btcec.ModNScalar
			n.SetByteSlice(v.priv)
			var p btcec.JacobianPoint
			btcec.ScalarBaseMultNonConst(&n, &p)
			p.ToAffine()
			if got := fieldHex(&p.X); got != v.xOurs {
				t.Errorf("x_ours %s, want %s", got, v.xOurs)
			}
			if x, err := decodeX([64]byte(v.ellOurs)); err != nil || fieldHex(x) != v.xOurs {
				t.Errorf("ellswift_ours decodes to %v (%v), want %s", x, err, v.xOurs)
			}
			if x, err := decodeX([64]byte(v.ellTheirs)); err != nil || fieldHex(x) != v.xTheirs {
				t.Errorf("x_theirs %v (%v), want %s", x, err, v.xTheirs)
			}
			pk, _ := btcec.PrivKeyFromBytes(v.priv)
			shared, err := ellswift.EllswiftECDHXOnly([64]byte(v.ellTheirs), pk)
			if err != nil || hex.EncodeToString(shared[:]) != v.xShared {
				t.Errorf("x_shared %x (%v), want %s", shared, err, v.xShared)
			}
			var c *Conn
			// Feed their key (and nothing else) split in two at every offset.
			var sent []byte
			for split := 0; split <= EllSwiftLen; split++ {
				c, err = New(Config{Magic: mainnetMagic, Initiator: v.initiating, Key: key, MaxContents: maxContentsField})
				if err != nil {
					t.Fatal(err)
				}
				sent = c.Start(nil)
				for _, part := range [][]byte{v.ellTheirs[:split], v.ellTheirs[split:]} {
					n, out, pkt, err := c.Receive(part, nil)
					if err != nil || n != len(part) || pkt != nil {
						t.Fatalf("split %d: Receive = %d, %v, %v", split, n, pkt, err)
					}
					sent = append(sent, out...)
				}
				if !c.Keyed() {
					t.Fatalf("split %d: not keyed after their key", split)
				}
			}
			secret, _ := sharedSecret(key, [64]byte(v.ellTheirs), v.initiating)
			if hex.EncodeToString(secret[:]) != v.secret {
				t.Errorf("shared secret %x, want %s", secret, v.secret)
			}
			k := c.keys
			for _, kv := range []struct {
				name string
				got  []byte
				want string
			}{
				{"initiator_l", k.initiatorL[:], v.initL}, {"initiator_p", k.initiatorP[:], v.initP},
				{"responder_l", k.responderL[:], v.respL}, {"responder_p", k.responderP[:], v.respP},
				{"session_id", k.sessionID[:], v.sessionID},
			} {
				if hex.EncodeToString(kv.got) != kv.want {
					t.Errorf("%s = %x, want %s", kv.name, kv.got, kv.want)
				}
			}
			sendTerm, recvTerm := k.initiatorTerm, k.responderTerm
			if !v.initiating {
				sendTerm, recvTerm = recvTerm, sendTerm
			}
			if hex.EncodeToString(sendTerm[:]) != v.sendTerm || hex.EncodeToString(recvTerm[:]) != v.recvTerm ||
				c.recvTerm != recvTerm {
				t.Errorf("terminators %x/%x, want %s/%s", sendTerm, recvTerm, v.sendTerm, v.recvTerm)
			}
			// What the Conn sent: initiator key, then our terminator, then our version packet.
			wantPrefix := append(append([]byte{}, v.ellOurs...), sendTerm[:]...)
			if !bytes.HasPrefix(sent, wantPrefix) || len(sent) != len(wantPrefix)+LengthOf(0) {
				t.Errorf("sent %d bytes %x..., want key+terminator+version packet", len(sent), sent[:min(len(sent), 80)])
			}

			// The vector's packet: a fresh send cipher (the version packet
			// above is not part of the vector), in_idx empty decoys first.
			sendL, sendP := newFSChaCha20(k.initiatorL[:]), newFSAEAD(k.initiatorP[:])
			if !v.initiating {
				sendL, sendP = newFSChaCha20(k.responderL[:]), newFSAEAD(k.responderP[:])
			}
			enc := &Conn{sendL: sendL, sendP: sendP, st: stOpen}
			var dummies []byte
			for i := 0; i < v.idx; i++ {
				dummies = enc.seal(dummies, nil, nil, true)
			}
			ct := enc.seal(nil, v.contents, v.aad, v.ignore)
			switch {
			case len(v.ciphertext) > 0 && !bytes.Equal(ct, v.ciphertext):
				t.Fatalf("ciphertext %x, want %x", ct, v.ciphertext)
			case len(v.ciphertextEnd) > 0 && !bytes.HasSuffix(ct, v.ciphertextEnd):
				t.Fatalf("ciphertext ends %x, want %x", ct[len(ct)-len(v.ciphertextEnd):], v.ciphertextEnd)
			}
			if len(ct) != LengthOf(len(v.contents)) {
				t.Fatalf("ciphertext of %d bytes for %d of contents", len(ct), len(v.contents))
			}
			// Decrypt it as the peer would, split at offsets.
			var splits []int
			if len(ct) <= 1<<12 {
				for s := 0; s <= len(ct); s++ {
					splits = append(splits, s)
				}
			} else {
				for s := 0; s <= 8; s++ {
					splits = append(splits, s, len(ct)-s, len(ct)-TagLen-HeaderLen+s-4)
				}
			}
			for _, split := range splits {
				l, p := k.initiatorL, k.initiatorP
				if !v.initiating {
					l, p = k.responderL, k.responderP
				}
				dec := &Conn{recvL: newFSChaCha20(l[:]), recvP: newFSAEAD(p[:]), st: stOpen, pktLen: -1,
					cfg: Config{MaxContents: maxContentsField}}
				if got, err := feed(dec, dummies); err != nil || len(got) != 0 {
					t.Fatalf("%d decoys: %d delivered, %v", v.idx, len(got), err)
				}
				dec.aad = v.aad
				got, err := feed(dec, ct[:split], ct[split:])
				if err != nil {
					t.Fatalf("split %d: %v", split, err)
				}
				if v.ignore {
					if len(got) != 0 {
						t.Fatalf("split %d: decoy delivered", split)
					}
				} else if len(got) != 1 || !bytes.Equal(got[0], v.contents) {
					t.Fatalf("split %d: decrypted %d packets", split, len(got))
				}
			}
		})
	}
}

// feed gives c the chunks one after another, as a driver would (keeping
// unconsumed bytes), and returns the application packets it produced.
func feed(c *Conn, chunks ...[]byte) ([][]byte, error) {
	var pending, out []byte
	var got [][]byte
	for _, ch := range chunks {
		pending = append(pending, ch...)
		for {
			n, o, pkt, err := c.Receive(pending, out[:0])
			out = o
			if err != nil {
				return got, err
			}
			pending = pending[n:]
			if pkt != nil {
				got = append(got, bytes.Clone(pkt))
			}
			if n == 0 {
				break
			}
		}
	}
	if len(pending) != 0 {
		return got, errLeftover
	}
	return got, nil
}

var errLeftover = errors.New("bytes left over")
