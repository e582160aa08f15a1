package codec

import (
	"errors"
	"testing"

	"github.com/btcsuite/btcd/wire/v2"
)

func TestDecodePingPongBtcd(t *testing.T) {
	const nonce = 0xfedcba9876543210
	for _, tc := range []struct {
		msg    wire.Message
		cmd    Command
		decode func([]byte) (uint64, error)
		append func([]byte, uint64) []byte
	}{
		{wire.NewMsgPing(nonce), CmdPing, DecodePing, AppendPing},
		{wire.NewMsgPong(nonce), CmdPong, DecodePong, AppendPong},
	} {
		fr := btcdFrame(t, tc.msg, 70016)
		res := feed(t, NewDecoder(Mainnet.Magic, CrawlerCommands), [][]byte{fr})
		if len(res.Frames) != 1 || res.Frames[0].Command != tc.cmd || res.Frames[0].Length != 8 {
			t.Fatalf("%+v", res)
		}
		got, err := tc.decode(res.Frames[0].Payload)
		if err != nil || got != nonce {
			t.Fatalf("%s: %x %v", tc.cmd, got, err)
		}
		if enc := AppendFrame(nil, Mainnet.Magic, tc.cmd, tc.append(nil, got)); string(enc) != string(fr) {
			t.Fatalf("%s: re-encoded %x, want %x", tc.cmd, enc, fr)
		}
	}
	if enc := AppendPingMessage(nil, Mainnet.Magic, nonce); string(enc) != string(btcdFrame(t, wire.NewMsgPing(nonce), 70016)) {
		t.Fatal("AppendPingMessage")
	}
	if enc := AppendPongMessage(nil, Mainnet.Magic, nonce); string(enc) != string(btcdFrame(t, wire.NewMsgPong(nonce), 70016)) {
		t.Fatal("AppendPongMessage")
	}
}

func TestDecodePingShapes(t *testing.T) {
	// Pre-BIP31 ping (what btcd sends at pver <= 60000): no nonce, no error.
	fr := btcdFrame(t, wire.NewMsgPing(7), 60000)
	if len(fr) != HeaderLen {
		t.Fatalf("btcd old ping is %d bytes", len(fr))
	}
	if n, err := DecodePing(payloadOf(fr)); n != 0 || err != nil {
		t.Fatal(n, err)
	}
	for _, in := range [][]byte{{1}, {1, 2, 3, 4, 5, 6, 7}} {
		_, err := DecodePing(in)
		if !errors.Is(err, ErrTruncated) || fieldOf(err) != "nonce" {
			t.Fatalf("ping %x: %v", in, err)
		}
	}
	// Pong always needs its nonce.
	for _, in := range [][]byte{nil, {1, 2, 3}} {
		_, err := DecodePong(in)
		var fe *FieldError
		if !errors.Is(err, ErrTruncated) || !errors.As(err, &fe) || fe.Msg != "pong" {
			t.Fatalf("pong %x: %v", in, err)
		}
	}
	// Trailing bytes are ignored (Core reads the nonce and stops).
	if n, err := DecodePong(hx("0100000000000000ff")); n != 1 || err != nil {
		t.Fatal(n, err)
	}
}
