package simnet

import (
	"cmp"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Held connections: a watch that holds one connection to every node (like
// bitnodes' pinger) needs a network that keeps them open, announces blocks
// and answers pings as real nodes would, with ground truth for what the
// watch measures:
//
//   - every connection whose handshake is done stays open (the idle timeout
//     must exceed the crawler's ping cadence: Config.IdleTimeout);
//   - every BlockInterval a new block is found (its hash derived from the
//     seed and its number); each held node announces it by an inv of one
//     MSG_BLOCK entry BlockDelay after it is found — a per-node delay
//     drawn from [0, DelayMax], in the truth file as block_delay_ms;
//   - each node answers a ping after its HoldRTT, drawn from [RTTMin,
//     RTTMax] and in the truth as hold_rtt_ms (a held RTT is the answer
//     delay: loopback adds microseconds), counted from the ping's arrival
//     as the kernel stamped it (stampconn.go); what each answer's delay
//     turned out to be goes to the pong log (ponglog.go);
//   - the crawler's pings are checked (crawlercheck.go): only after its
//     verack, 8 bytes with a non-zero nonce, never while its previous ping
//     is unanswered, and no sooner than MinPingGap after the previous one
//     (between their arrivals, as the kernel stamped them).

// HoldSim configures held connections (Config.Hold; nil = off, and a
// crawler's ping is then an unexpected command).
type HoldSim struct {
	BlockInterval  time.Duration // default 10 min; negative: no blocks
	DelayMax       time.Duration // per-node block announcement delay, default 2 s
	RTTMin, RTTMax time.Duration // per-node ping answer delay, default 20–200 ms
	MinPingGap     time.Duration // 0: not checked
	// PongLog receives a line per pong answered (ponglog.go); nil: none.
	PongLog io.Writer
	// InvLog receives a line per block announcement sent (ponglog.go);
	// nil: none.
	InvLog io.Writer
}

func (h HoldSim) withDefaults() HoldSim {
	if h.BlockInterval == 0 {
		h.BlockInterval = 10 * time.Minute
	}
	if h.DelayMax <= 0 {
		h.DelayMax = 2 * time.Second
	}
	if h.RTTMin <= 0 && h.RTTMax <= 0 {
		h.RTTMin, h.RTTMax = 20*time.Millisecond, 200*time.Millisecond
	}
	h.RTTMax = max(h.RTTMax, h.RTTMin)
	return h
}

// Salts of the hold fields (far from identity.go's, which count from 1).
const (
	saltHoldRTT   = 0x40
	saltHoldDelay = 0x41
)

// HoldRTT is how long node u waits before answering a ping.
func (n *Network) HoldRTT(u uint32) time.Duration {
	h := n.cfg.Hold.withDefaults()
	span := uint64(h.RTTMax - h.RTTMin)
	return h.RTTMin + time.Duration(n.lay.h(u, saltHoldRTT)%(span+1))
}

// BlockDelay is how long after a block is found node u announces it.
func (n *Network) BlockDelay(u uint32) time.Duration {
	h := n.cfg.Hold.withDefaults()
	return time.Duration(n.lay.h(u, saltHoldDelay) % uint64(h.DelayMax+1))
}

// BlockTruth is one block the network found.
type BlockTruth struct {
	Hash  [32]byte  `json:"hash"` // as on the wire
	Found time.Time `json:"found"`
}

// HoldStats counts the held connections' traffic.
type HoldStats struct {
	Held   int64 // connections held now (handshake done, still open)
	Pings  int64 // crawler pings answered
	Blocks int64 // blocks found
	Invs   int64 // block announcements sent
}

// holdNet is the network's held-connection state.
type holdNet struct {
	n   *Network
	cfg HoldSim

	mu     sync.Mutex
	held   map[*session]struct{}
	blocks []BlockTruth

	pings, invs   atomic.Int64
	pongs, invLog *csvLog
}

// heldConn is a held session's state, shared by its reader and the
// goroutines that answer pings and announce blocks (under session.wmu).
type heldConn struct {
	lastPing    time.Time
	outstanding bool
}

const maxBlocksKept = 10_000

// announceLead is how long after its tick a block is found: time to set up
// every held node's announcement timer first (tens of milliseconds for
// 19,000), which would otherwise make the first announcements late by that
// much — and every node's delay is measured from the first announcement.
const announceLead = 200 * time.Millisecond

func newHoldNet(n *Network) *holdNet {
	cfg := n.cfg.Hold.withDefaults()
	return &holdNet{n: n, cfg: cfg, held: map[*session]struct{}{}, pongs: newPongLog(cfg.PongLog),
		invLog: newInvLog(cfg.InvLog)}
}

// run finds blocks on schedule and has every held node announce them.
func (h *holdNet) run() {
	defer h.n.wg.Done()
	defer h.flush()
	var blocks <-chan time.Time
	if h.cfg.BlockInterval > 0 {
		t := time.NewTicker(h.cfg.BlockInterval)
		defer t.Stop()
		blocks = t.C
	}
	var flush <-chan time.Time
	if h.pongs != nil || h.invLog != nil {
		t := time.NewTicker(time.Second)
		defer t.Stop()
		flush = t.C
	}
	for k := uint64(1); ; {
		select {
		case <-h.n.ctx.Done():
			return
		case now := <-blocks:
			h.announce(k, now.Add(announceLead))
			k++
		case <-flush:
			h.flush()
		}
	}
}

func (h *holdNet) announce(k uint64, found time.Time) {
	var seed [16]byte
	binary.LittleEndian.PutUint64(seed[:], h.n.cfg.Seed)
	binary.LittleEndian.PutUint64(seed[8:], k)
	hash := sha256.Sum256(seed[:])
	payload := make([]byte, 0, 37)
	payload = append(payload, 1)                           // one entry
	payload = binary.LittleEndian.AppendUint32(payload, 2) // MSG_BLOCK
	payload = append(payload, hash[:]...)
	frame := appendFrame(nil, h.n.cfg.Network.Magic, cmdInv, payload)
	h.mu.Lock()
	if len(h.blocks) < maxBlocksKept {
		h.blocks = append(h.blocks, BlockTruth{Hash: hash, Found: found})
	}
	// Every timer is set before the block is found (announceLead), so no
	// node's announcement waits behind the set-up of the others', soonest
	// first all the same.
	type due struct {
		s *session
		d time.Duration
	}
	dues := make([]due, 0, len(h.held))
	for s := range h.held {
		dues = append(dues, due{s, h.n.BlockDelay(s.id.Index)})
	}
	h.mu.Unlock()
	slices.SortFunc(dues, func(a, b due) int { return cmp.Compare(a.d, b.d) })
	for _, x := range dues {
		s, due := x.s, found.Add(x.d)
		time.AfterFunc(max(time.Until(due), 0), func() {
			if sent, err := s.writeAt(frame); err == nil {
				h.invs.Add(1)
				h.invLog.addInv(s.id.Addr.String(), hash, due, sent)
			}
		})
	}
}

// flush flushes the pong and inv logs and returns their first write error.
func (h *holdNet) flush() error {
	return errors.Join(h.pongs.flush(), h.invLog.flush())
}

// register: s completed its handshake and is held from now on.
func (h *holdNet) register(s *session) {
	s.wmu.Lock()
	s.held = &heldConn{}
	s.wmu.Unlock()
	h.mu.Lock()
	h.held[s] = struct{}{}
	h.mu.Unlock()
}

func (h *holdNet) unregister(s *session) {
	h.mu.Lock()
	delete(h.held, s)
	h.mu.Unlock()
}

// onPing answers the crawler's ping after the node's RTT, without holding
// up the reader.
func (h *holdNet) onPing(s *session, p []byte) error {
	if len(p) != 8 {
		return nil // pre-BIP31 ping or a violation already counted: no pong
	}
	frame := appendFrame(make([]byte, 0, headerLen+8), h.n.cfg.Network.Magic, cmdPong, p)
	// From the ping's arrival (the read that took its last bytes), so that
	// a reader woken late does not make the answer late.
	read, rtt := s.stamps.arrived(), h.n.HoldRTT(s.id.Index)
	time.AfterFunc(time.Until(read.Add(rtt)), func() {
		fired := time.Now()
		s.wmu.Lock()
		if s.held != nil {
			s.held.outstanding = false
		}
		s.wmu.Unlock()
		if sent, err := s.writeAt(frame); err == nil {
			h.pings.Add(1)
			h.pongs.addPong(s.id.Addr.String(), read, fired, sent, rtt)
		}
	})
	return nil
}

// checkPing applies the ping rules to one crawler ping (see the top of the
// file); called by crawlerCheck in message order.
func (h *holdNet) checkPing(s *session, c *crawlerCheck, p []byte) {
	switch {
	case !c.verack:
		s.violation("ping before verack", "")
		return
	case len(p) != 8:
		s.violation("ping without an 8-byte nonce", fmt.Sprintf("%d bytes", len(p)))
		return
	case binary.LittleEndian.Uint64(p) == 0:
		s.violation("ping with nonce 0", "")
	}
	now := s.stamps.arrived() // a reader woken late would see the pings closer than they came
	s.wmu.Lock()
	hc := s.held
	if hc == nil {
		hc = &heldConn{}
		s.held = hc
	}
	outstanding, last := hc.outstanding, hc.lastPing
	hc.outstanding, hc.lastPing = true, now
	s.wmu.Unlock()
	switch {
	case outstanding:
		s.violation("ping while the previous one is unanswered", "")
	case h.cfg.MinPingGap > 0 && !last.IsZero() && now.Sub(last) < h.cfg.MinPingGap:
		s.violation("pings too close", fmt.Sprintf("%v apart, at least %v", now.Sub(last).Round(time.Millisecond), h.cfg.MinPingGap))
	}
}

// HoldStats returns the held connections' counters (zero when off).
func (n *Network) HoldStats() HoldStats {
	h := n.hold
	if h == nil {
		return HoldStats{}
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	return HoldStats{Held: int64(len(h.held)), Pings: h.pings.Load(), Blocks: int64(len(h.blocks)), Invs: h.invs.Load()}
}

// Blocks returns the blocks found so far.
func (n *Network) Blocks() []BlockTruth {
	if n.hold == nil {
		return nil
	}
	n.hold.mu.Lock()
	defer n.hold.mu.Unlock()
	return append([]BlockTruth(nil), n.hold.blocks...)
}

// holdTruth adds a node's hold fields to its truth entry.
func (n *Network) holdTruth(t *TruthNode, id Identity) {
	if n.cfg.Hold == nil || !id.Class.SendsVersion() {
		return
	}
	rtt := float64(n.HoldRTT(id.Index)) / float64(time.Millisecond)
	d := float64(n.BlockDelay(id.Index)) / float64(time.Millisecond)
	t.HoldRTTMs, t.BlockDelayMs = &rtt, &d
}
