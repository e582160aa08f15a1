package simnet

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"net"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/btcsuite/btcd/wire/v2"
)

// lockedBuffer is a pong log a test can read while the network writes it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// heldClient starts a 20-node network with hold and holds one reachable
// node: its handshake done, the connection open (closed at the test's end).
func heldClient(t *testing.T, hold HoldSim) (*Network, Identity, *wireClient) {
	t.Helper()
	n := startNet(t, Config{Profile: ProfileHealthy, Nodes: 20, Seed: 3, Onions: -1, I2Ps: -1, CJDNSs: -1, Forbidden: -1,
		LatencyMax: time.Nanosecond, Hold: &hold})
	id := findIdentity(t, n, ClassReachable, nil)
	c, err := dialAddr(t, id.Addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	w := &wireClient{t: t, c: c, net: btcnet(n)}
	if _, err := w.crawl(true, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	return n, id, w
}

// TestHeldPingAnswerAndPongLog: a held node answers a ping its RTT after
// the ping arrived, and the pong log has the answer's line: the node, an
// arrival no later than the pong was written, the node's RTT, and an actual
// delay (written − arrival) of at least that.
func TestHeldPingAnswerAndPongLog(t *testing.T) {
	var log lockedBuffer
	n, id, w := heldClient(t, HoldSim{BlockInterval: -1, RTTMin: 30 * time.Millisecond, RTTMax: 60 * time.Millisecond, PongLog: &log})
	var err error
	rtt := n.HoldRTT(id.Index)
	sent := time.Now()
	w.send(wire.NewMsgPing(77))
	for {
		msg, err := w.next(5 * time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if p, ok := msg.(*wire.MsgPong); ok && p.Nonce == 77 {
			break
		}
	}
	if got := time.Since(sent); got < rtt || got > rtt+200*time.Millisecond {
		t.Fatalf("pong after %v, node's RTT %v", got, rtt)
	}
	var rows [][]string
	for deadline := time.Now().Add(3 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if rows, err = csv.NewReader(bytes.NewBufferString(log.String())).ReadAll(); err == nil && len(rows) == 2 {
			break
		}
	}
	if len(rows) != 2 || len(rows[1]) != 5 {
		t.Fatalf("pong log: %q", log.String())
	}
	r := rows[1]
	num := func(i int) int64 {
		v, err := strconv.ParseInt(r[i], 10, 64)
		if err != nil {
			t.Fatalf("pong log field %d: %v", i, err)
		}
		return v
	}
	read, fired, written, intended := num(1), num(2), num(3), num(4)
	switch {
	case r[0] != id.Addr.String():
		t.Errorf("node %q, want %s", r[0], id.Addr)
	case time.Duration(intended) != rtt:
		t.Errorf("intended %v, want %v", time.Duration(intended), rtt)
	case read < sent.UnixNano() || fired < read+intended || written < fired:
		t.Errorf("times out of order: sent %d, read %d, fired %d, written %d", sent.UnixNano(), read, fired, written)
	}
}

// TestHeldBlockAnnouncementAndInvLog: a held node announces each block by
// an inv of its hash, and the inv log has the announcement's line: the
// node, the block, when it was due (the block found + the node's delay)
// and when it left, no earlier than due.
func TestHeldBlockAnnouncementAndInvLog(t *testing.T) {
	var log lockedBuffer
	n, id, w := heldClient(t, HoldSim{BlockInterval: 300 * time.Millisecond, DelayMax: 100 * time.Millisecond, InvLog: &log})
	var err error
	var inv *wire.MsgInv
	for inv == nil {
		msg, err := w.next(5 * time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if m, ok := msg.(*wire.MsgInv); ok && len(m.InvList) == 1 && m.InvList[0].Type == wire.InvTypeBlock {
			inv = m
		}
	}
	var rows [][]string
	for deadline := time.Now().Add(3 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if rows, err = csv.NewReader(bytes.NewBufferString(log.String())).ReadAll(); err == nil && len(rows) >= 2 {
			break
		}
	}
	if len(rows) < 2 || len(rows[1]) != 4 || rows[0][1] != "block" {
		t.Fatalf("inv log: %q", log.String())
	}
	r := rows[1]
	due, err1 := strconv.ParseInt(r[2], 10, 64)
	written, err2 := strconv.ParseInt(r[3], 10, 64)
	if err1 != nil || err2 != nil {
		t.Fatalf("inv log line %q", r)
	}
	var found time.Time
	hash := inv.InvList[0].Hash
	for _, b := range n.Blocks() {
		if b.Hash == hash {
			found = b.Found
		}
	}
	switch {
	case r[0] != id.Addr.String():
		t.Errorf("node %q, want %s", r[0], id.Addr)
	case r[1] != fmt.Sprintf("%x", hash[:]):
		t.Errorf("block %s, the inv's %x", r[1], hash[:])
	case found.IsZero():
		t.Errorf("block %x not among the network's blocks", hash[:])
	case due != found.Add(n.BlockDelay(id.Index)).UnixNano():
		t.Errorf("due %d, want found %d + delay %v", due, found.UnixNano(), n.BlockDelay(id.Index))
	case written < due:
		t.Errorf("written %d before due %d", written, due)
	}
}

// TestHeldConnectionHasNoKeepAlive: the network's side of a held
// connection sends no TCP keepalive (see noKeepAlive).
func TestHeldConnectionHasNoKeepAlive(t *testing.T) {
	n, _, _ := heldClient(t, HoldSim{BlockInterval: -1})
	var conns []net.Conn
	for deadline := time.Now().Add(3 * time.Second); len(conns) == 0 && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		n.hold.mu.Lock()
		for s := range n.hold.held {
			conns = append(conns, s.c)
		}
		n.hold.mu.Unlock()
	}
	if len(conns) != 1 {
		t.Fatalf("%d held connections, want 1", len(conns))
	}
	c := conns[0]
	for unwrapped := false; !unwrapped; {
		switch w := c.(type) {
		case *prefixConn:
			c = w.Conn
		case *stampConn:
			c = w.Conn
		default:
			unwrapped = true
		}
	}
	sc, err := c.(syscall.Conn).SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var on int
	var gerr error
	if err := sc.Control(func(fd uintptr) { on, gerr = syscall.GetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_KEEPALIVE) }); err != nil || gerr != nil {
		t.Fatal(err, gerr)
	}
	if on != 0 {
		t.Errorf("SO_KEEPALIVE %d on the network's side of a held connection", on)
	}
}
