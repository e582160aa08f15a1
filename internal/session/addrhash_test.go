package session

import (
	"testing"

	"github.com/nodesweep/nodesweep/codec"
)

// An addr message over v1 framing is recorded with the double SHA-256 the
// decoder computed for its checksum, which the store names the payload by.
func TestAddrMessageKeepsWireHash(t *testing.T) {
	for _, cmd := range []codec.Command{codec.CmdAddr, codec.CmdAddrV2} {
		payload := codec.AppendAddrV2(nil, entries(5))
		pver := int32(70016)
		if cmd == codec.CmdAddr {
			payload, pver = codec.AppendAddr(nil, 70015, entries(5)), 70015
		}
		stream := happyStream(pver, msg(cmd, payload))
		a, _ := run(t, stream, []int{len(stream)})
		if len(a.Addrs) != 1 || a.Addrs[0].Command != cmd {
			t.Fatalf("%v: addrs %+v", cmd, a.Addrs)
		}
		if m := a.Addrs[0]; m.Hash != codec.DoubleSHA256(m.Raw) || m.Hash == ([32]byte{}) {
			t.Errorf("%v: hash %x, want %x", cmd, m.Hash, codec.DoubleSHA256(m.Raw))
		}
	}
}
