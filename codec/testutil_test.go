package codec

import (
	"bytes"
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	"github.com/btcsuite/btcd/wire/v2"
)

// hx decodes a hex vector written with spaces and newlines for readability.
func hx(s string) []byte {
	b, err := hex.DecodeString(strings.Join(strings.Fields(s), ""))
	if err != nil {
		panic(err)
	}
	return b
}

// frame wraps a payload in a mainnet header.
func frame(c Command, payload []byte) []byte {
	return AppendFrame(nil, Mainnet.Magic, c, payload)
}

// btcdFrame encodes msg with btcd wire/v2, header included.
func btcdFrame(t testing.TB, msg wire.Message, pver uint32) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := wire.WriteMessage(&b, msg, pver, wire.MainNet); err != nil {
		t.Fatalf("btcd encode %s: %v", msg.Command(), err)
	}
	return b.Bytes()
}

// payloadOf strips the 24-byte header of a frame.
func payloadOf(frame []byte) []byte { return frame[HeaderLen:] }

// event is one thing a Decoder reported, with the payload copied out of the
// caller's buffer.
type event struct {
	Command Command
	Name    string
	Length  uint32
	Payload []byte
	Skipped bool
	Hash    [32]byte
}

// streamResult is everything a Decoder reported over one stream.
type streamResult struct {
	Frames    []event
	Garbage   int // bytes reported in *GarbageError
	Checksums int // frames dropped for their checksum
	Fatal     error
	Left      int // bytes left unconsumed at the end (0 after a fatal error)
}

// feed runs a Decoder over a stream delivered in chunks, as a connection
// would deliver it: unconsumed bytes are kept and the next chunk appended.
// It fails the test if the Decoder ever claims more bytes than it was given,
// or stalls (n == 0) with an error that is not fatal.
func feed(t testing.TB, d *Decoder, chunks [][]byte) streamResult {
	t.Helper()
	var res streamResult
	var pending []byte
	for _, c := range chunks {
		pending = append(pending, c...)
		for {
			f, n, err := d.Decode(pending)
			if n < 0 || n > len(pending) {
				t.Fatalf("Decode consumed %d of %d bytes", n, len(pending))
			}
			var ge *GarbageError
			var ce *ChecksumError
			switch {
			case err == nil:
				// A frame (even one whose command field is all NUL) is
				// either skipped or carries a non-nil payload; swallowed
				// bytes of a skipped payload are neither.
				if f.Skipped || f.Payload != nil {
					res.Frames = append(res.Frames, event{f.Command, f.NameString(), f.Length,
						bytes.Clone(f.Payload), f.Skipped, f.Hash})
				}
			case errors.As(err, &ge):
				if ge.Skipped != n || n == 0 {
					t.Fatalf("GarbageError.Skipped %d, n %d", ge.Skipped, n)
				}
				res.Garbage += n
			case errors.As(err, &ce):
				if n == 0 {
					t.Fatalf("ChecksumError without progress")
				}
				res.Checksums++
			default:
				if n != 0 {
					t.Fatalf("fatal error %v with n=%d", err, n)
				}
				// Left stays 0: how much of the stream had arrived when
				// the fatal header did depends on the chunking.
				res.Fatal = err
				return res
			}
			if n == 0 && len(pending) > 0 && d.Skipping() == 0 {
				// Waiting: only for the rest of a magic, a header, or the
				// payload of a wanted command within its cap.
				if len(pending) >= 4 && [4]byte(pending[:4]) != Mainnet.Magic ||
					len(pending) < 4 && !bytes.HasPrefix(Mainnet.Magic[:], pending) {
					t.Fatalf("waiting on %x, which is not a frame start", pending[:min(len(pending), 8)])
				}
				if len(pending) >= HeaderLen {
					c := CommandFromWire([12]byte(pending[4:16]))
					if !CrawlerCommands.Has(c) || len(pending) >= HeaderLen+int(MaxPayloadFor(c)) {
						t.Fatalf("waiting with %d bytes for %s", len(pending), c)
					}
				}
			}
			pending = pending[n:]
			if n == 0 {
				break
			}
		}
	}
	res.Left = len(pending)
	return res
}

// splits returns the ways every test delivers a stream: whole, in two pieces
// cut at every offset, and byte by byte.
func splits(s []byte) [][][]byte {
	out := [][][]byte{{s}}
	for i := 1; i < len(s); i++ {
		out = append(out, [][]byte{s[:i], s[i:]})
	}
	bb := make([][]byte, len(s))
	for i := range s {
		bb[i] = s[i : i+1]
	}
	return append(out, bb)
}
