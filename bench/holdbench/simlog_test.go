package holdbench

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/nodesweep/nodesweep/codec"
)

// TestSimLogCutLine: the simulator's logs are read while it still writes
// them, and its buffered writer can leave the file ending inside a line,
// even inside the line's last number. Such a line is not a record: read as
// one, an inv's written stamp cut to a few digits became its block's
// earliest inv, and every sample of the block was scored seconds off.
func TestSimLogCutLine(t *testing.T) {
	a, b := codec.MustParseAddr("127.0.0.1:8333"), codec.MustParseAddr("127.0.0.2:8333")
	t0 := time.Unix(1_700_000_000, 0).UnixNano()
	blk := [32]byte{7}
	full := invLine(a, blk, t0, t0+1000)
	cut := invLine(b, blk, t0, t0+2000)
	cut = cut[:len(cut)-4] // inside written_unix_ns, no newline
	l, err := readInvs(strings.NewReader("node,block,due_unix_ns,written_unix_ns\n" + full + cut))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := l.byBlock[blk][b]; ok || l.first[blk] != t0+1000 {
		t.Errorf("cut line read as a record: %v, block's first inv at %d, want %d", l.byBlock[blk], l.first[blk], t0+1000)
	}
	pcut := line(b, t0, t0+10, t0+20, 30)
	pcut = pcut[:len(pcut)-2] // intended_ns 30 cut to 3
	ps, err := readPongs(strings.NewReader("node,ping_read_unix_ns,fired_unix_ns,written_unix_ns,intended_ns\n" + line(a, t0, t0+10, t0+20, 30) + pcut))
	if err != nil {
		t.Fatal(err)
	}
	if len(ps[a]) != 1 || len(ps[b]) != 0 {
		t.Errorf("pongs %v, want a's only", ps)
	}
}

// TestSimLogBadLine: a malformed line inside a log (not its cut-off end)
// is an error, not a silent end of the log whose samples would all count
// as unmatched with no word of why.
func TestSimLogBadLine(t *testing.T) {
	a := codec.MustParseAddr("127.0.0.1:8333")
	t0 := time.Unix(1_700_000_000, 0).UnixNano()
	blk := [32]byte{7}
	for _, bad := range []string{
		"127.0.0.1:8333,0707,1\n",                              // too few fields
		invLine(a, blk, t0, t0)[:20] + "x" + "\n",              // garbage
		strings.Replace(invLine(a, blk, t0, t0), ",", ",,", 1), // too many
	} {
		log := "node,block,due_unix_ns,written_unix_ns\n" + invLine(a, blk, t0, t0) + bad + invLine(a, [32]byte{8}, t0, t0)
		if _, err := readInvs(strings.NewReader(log)); err == nil {
			t.Errorf("line %q: no error", bad)
		}
	}
	if _, err := readInvs(strings.NewReader("")); err == nil {
		t.Error("empty log (no header): no error")
	}
}

// invLine is one line of an inv log.
func invLine(n codec.Addr, h [32]byte, due, written int64) string {
	return fmt.Sprintf("%s,%x,%d,%d\n", n, h[:], due, written)
}
