package codec

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/btcsuite/btcd/wire/v2"
)

func TestDecodeRejectBtcd(t *testing.T) {
	tx := wire.NewMsgReject("tx", wire.RejectInsufficientFee, "mempool min fee not met")
	tx.Hash = chainhash.Hash{1, 2, 3, 31: 0xff}
	ver := wire.NewMsgReject("version", wire.RejectObsolete, "Version must be 31800 or greater")
	for _, tc := range []struct {
		m    *wire.MsgReject
		hash bool
	}{{tx, true}, {ver, false}} {
		fr := btcdFrame(t, tc.m, 70016)
		res := feed(t, NewDecoder(Mainnet.Magic, CrawlerCommands), [][]byte{fr})
		if len(res.Frames) != 1 || res.Frames[0].Command != CmdReject {
			t.Fatalf("%+v", res)
		}
		r, err := DecodeReject(res.Frames[0].Payload)
		if err != nil {
			t.Fatal(err)
		}
		if r.Message != tc.m.Cmd || r.Code != uint8(tc.m.Code) || r.Reason != tc.m.Reason || r.HasHash != tc.hash ||
			(tc.hash && r.Hash != [32]byte(tc.m.Hash)) {
			t.Fatalf("%+v", r)
		}
		if enc := AppendReject(nil, &r); !bytes.Equal(enc, payloadOf(fr)) {
			t.Fatalf("AppendReject %x, want %x", enc, payloadOf(fr))
		}
	}
}

func TestDecodeRejectErrors(t *testing.T) {
	for _, tc := range []struct {
		name  string
		in    []byte
		err   error
		field string
	}{
		{"empty", nil, ErrTruncated, "message"},
		{"message of 13 bytes", append([]byte{13}, "thirteen-char"...), ErrMalformed, "message"},
		{"no code", append([]byte{2}, "tx"...), ErrTruncated, "code"},
		{"reason cut", append([]byte{2}, "tx\x10\x05abc"...), ErrTruncated, "reason"},
		{"reason too long", append([]byte{2}, "tx\x10\xfe\x00\x00\x01\x00"...), ErrMalformed, "reason"},
		{"tx without hash", append([]byte{2}, "tx\x10\x00"...), ErrTruncated, "hash"},
		{"block with half a hash", append(append([]byte{5}, "block\x10\x00"...), make([]byte, 16)...), ErrTruncated, "hash"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := DecodeReject(tc.in)
			var fe *FieldError
			if !errors.Is(err, tc.err) || !errors.As(err, &fe) || fe.Field != tc.field || fe.Msg != "reject" {
				t.Fatalf("err %v, want %v in %q", err, tc.err, tc.field)
			}
			if r != (Reject{}) {
				t.Fatalf("value with error: %+v", r)
			}
		})
	}
	// Other messages carry no hash; trailing bytes are ignored.
	r, err := DecodeReject(append([]byte{7}, "version\x11\x03bad\x01\x02"...))
	if err != nil || r.HasHash || r.Reason != "bad" || r.Code != 0x11 {
		t.Fatal(r, err)
	}
	// A long reason is kept whole (btcd never limited it).
	long := strings.Repeat("r", 500)
	r, err = DecodeReject(AppendReject(nil, &Reject{Message: "getdata", Reason: long}))
	if err != nil || r.Reason != long {
		t.Fatal(err)
	}
}
