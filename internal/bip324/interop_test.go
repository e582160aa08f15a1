package bip324

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"net"
	"testing"
	"time"

	"github.com/btcsuite/btcd/v2transport"
)

// drive runs c over conn until it has delivered want application packets,
// sending msgs once the ciphers are set; writes go through a goroutine so
// that net.Pipe's synchronous writes cannot deadlock against the peer's.
func drive(t *testing.T, c *Conn, conn net.Conn, msgs [][]byte, want int) ([][]byte, error) {
	wq := make(chan []byte, 64)
	werr := make(chan error, 1)
	go func() {
		for b := range wq {
			if _, err := conn.Write(b); err != nil {
				werr <- err
				return
			}
		}
		werr <- nil
	}()
	defer close(wq)
	if out := c.Start(nil); len(out) > 0 {
		wq <- out
	}
	var pending []byte
	var got [][]byte
	sent := false
	buf := make([]byte, 1500)
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	for len(got) < want {
		n, err := conn.Read(buf)
		if err != nil {
			return got, err
		}
		pending = append(pending, buf[:n]...)
		for {
			k, out, pkt, err := c.Receive(pending, nil)
			if err != nil {
				return got, err
			}
			pending = pending[k:]
			if len(out) > 0 {
				wq <- out
			}
			if pkt != nil {
				got = append(got, bytes.Clone(pkt))
			}
			if c.Keyed() && !sent {
				sent = true
				var b []byte
				for _, m := range msgs {
					b, _ = c.Seal(b, m)
				}
				if len(b) > 0 {
					wq <- b
				}
			}
			if k == 0 {
				break
			}
		}
	}
	return got, nil
}

func randomKey(t *testing.T) Key {
	k, err := NewKeyFrom(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

var btcdMainnet = v2transport.BitcoinNet(binary.LittleEndian.Uint32(mainnetMagic[:]))

// TestInteropInitiatorWithBtcd: our initiator against btcd's v2transport
// responder (an implementation independent of ours), with garbage on both
// sides and btcd's decoys before its version packet; messages both ways.
func TestInteropInitiatorWithBtcd(t *testing.T) {
	for _, garbage := range []int{0, 1, 300, MaxGarbage} {
		a, b := net.Pipe()
		peer := v2transport.NewPeer()
		peer.UseReadWriter(b)
		btcdGot := make(chan []byte, 4)
		btcdErr := make(chan error, 1)
		go func() {
			if err := peer.RespondV2Handshake(garbage, btcdMainnet); err != nil {
				btcdErr <- err
				return
			}
			if err := peer.CompleteHandshake(false, []int{0, 5, 1000}, btcdMainnet); err != nil {
				btcdErr <- err
				return
			}
			for k := 0; k < 2; k++ {
				p, err := peer.V2ReceivePacket(nil)
				if err != nil {
					btcdErr <- err
					return
				}
				btcdGot <- p
			}
			if _, _, err := peer.V2EncPacket(AppendMessage(nil, name("verack"), nil), nil, false); err != nil {
				btcdErr <- err
				return
			}
			if _, _, err := peer.V2EncPacket(AppendMessage(nil, name("ping"), []byte("12345678")), nil, false); err != nil {
				btcdErr <- err
				return
			}
			btcdErr <- nil
		}()
		g := make([]byte, garbage/2)
		c, err := New(Config{Magic: mainnetMagic, Initiator: true, Key: randomKey(t), Garbage: g})
		if err != nil {
			t.Fatal(err)
		}
		msgs := [][]byte{AppendMessage(nil, name("version"), []byte("v")), AppendMessage(nil, name("getaddr"), nil)}
		got, err := drive(t, c, a, msgs, 2)
		if err != nil {
			t.Fatalf("garbage %d: %v", garbage, err)
		}
		if e := <-btcdErr; e != nil {
			t.Fatalf("garbage %d: btcd: %v", garbage, e)
		}
		if !bytes.Equal(<-btcdGot, msgs[0]) || !bytes.Equal(<-btcdGot, msgs[1]) {
			t.Fatal("btcd got other messages")
		}
		if n, p, _ := ParseMessage(got[1]); n != name("ping") || string(p) != "12345678" {
			t.Fatalf("we got %q %q", n, p)
		}
		if c.GarbageSeen() != garbage {
			t.Fatalf("garbage seen %d, btcd sent %d", c.GarbageSeen(), garbage)
		}
		a.Close()
		b.Close()
	}
}

// TestInteropResponderWithBtcd: btcd's v2transport initiator against our
// responder.
func TestInteropResponderWithBtcd(t *testing.T) {
	for _, garbage := range []int{0, 17, MaxGarbage} {
		a, b := net.Pipe()
		peer := v2transport.NewPeer()
		peer.UseReadWriter(b)
		btcdGot := make(chan []byte, 4)
		btcdErr := make(chan error, 1)
		go func() {
			if err := peer.InitiateV2Handshake(garbage); err != nil {
				btcdErr <- err
				return
			}
			if err := peer.CompleteHandshake(true, []int{3}, btcdMainnet); err != nil {
				btcdErr <- err
				return
			}
			if _, _, err := peer.V2EncPacket(AppendMessage(nil, name("version"), []byte("btcd")), nil, false); err != nil {
				btcdErr <- err
				return
			}
			p, err := peer.V2ReceivePacket(nil)
			if err != nil {
				btcdErr <- err
				return
			}
			btcdGot <- p
			btcdErr <- nil
		}()
		c, err := New(Config{Magic: mainnetMagic, Key: randomKey(t), Garbage: make([]byte, 100)})
		if err != nil {
			t.Fatal(err)
		}
		got, err := drive(t, c, a, [][]byte{AppendMessage(nil, name("verack"), nil)}, 1)
		if err != nil {
			t.Fatalf("garbage %d: %v", garbage, err)
		}
		if e := <-btcdErr; e != nil {
			t.Fatalf("btcd: %v", e)
		}
		if n, p, _ := ParseMessage(got[0]); n != name("version") || string(p) != "btcd" {
			t.Fatalf("we got %q %q", n, p)
		}
		if n, _, _ := ParseMessage(<-btcdGot); n != name("verack") {
			t.Fatalf("btcd got %q", n)
		}
		a.Close()
		b.Close()
	}
}
