package session

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/nodesweep/nodesweep/codec"
	"github.com/nodesweep/nodesweep/internal/record"
)

// Hold-mode defaults, in one place.
const (
	// DefaultPingMin and DefaultPingMax bound the jittered ping cadence of a
	// held session (bitnodes' pinger: a ping every 60–600 s). A ping is also
	// what keeps a quiet connection from looking dead to the peer.
	DefaultPingMin = 60 * time.Second
	DefaultPingMax = 600 * time.Second
	// DefaultPongWait: a peer that does not answer our ping within it is
	// gone. Core disconnects a peer whose pong is 20 minutes late
	// (TIMEOUT_INTERVAL); we are stricter, since a held slot is only worth
	// its samples.
	DefaultPongWait = 2 * time.Minute
	// DefaultLifetime ends a held session after a day so that the holder
	// reconnects and re-reads the version (the daily version re-check).
	DefaultLifetime = 24 * time.Hour
	// holdBlocksPerInv bounds the block announcements taken from one inv
	// (a real announcement names one block, a reorg a handful).
	holdBlocksPerInv = 8
	// holdRecentBlocks is how many announced hashes are remembered to drop
	// re-announcements of the same block.
	holdRecentBlocks = 8
	// maxPendingEvents bounds the events a session holds between two drains
	// by its driver; past it events are dropped and counted.
	maxPendingEvents = 64
)

// DetailLifetime is the detail of a held session that ended because its
// lifetime was over (the holder reconnects at once: the version re-check).
const DetailLifetime = "held: lifetime over (version re-check)"

// HoldConfig makes sessions held: after the handshake (and the addr answer,
// if getaddr was asked) the session stays open, answers pings, pings on a
// jittered cadence and reports RTT samples, and reports block announcements
// (inv of MSG_BLOCK / MSG_WITNESS_BLOCK) with their arrival time. Headers
// announcements are not asked for: we never send sendheaders or sendcmpct,
// so a peer announces new blocks to us by inv (Core's rule for such peers),
// and a `headers` message is skipped unread.
type HoldConfig struct {
	PingMin, PingMax time.Duration
	PongWait         time.Duration
	Lifetime         time.Duration
	// Rand draws the ping jitter and our ping nonces (default math/rand/v2);
	// it is called from the engines' goroutines and must be safe for that.
	Rand func() uint64
}

func (h HoldConfig) withDefaults() HoldConfig {
	if h.PingMin <= 0 {
		h.PingMin = DefaultPingMin
	}
	if h.PingMax < h.PingMin {
		h.PingMax = max(DefaultPingMax, h.PingMin)
	}
	if h.PongWait <= 0 {
		h.PongWait = DefaultPongWait
	}
	if h.Lifetime <= 0 {
		h.Lifetime = DefaultLifetime
	}
	if h.Rand == nil {
		h.Rand = rand.Uint64
	}
	return h
}

// EventKind says what a held session reports.
type EventKind uint8

// Event kinds. Down is not an event: it is the session's end, reported by
// Finish like every session's.
const (
	EventUp    EventKind = iota + 1 // the handshake is done; the session is held
	EventRTT                        // a pong answered our ping
	EventBlock                      // the peer announced a block
)

// Event is one thing a held session reports to its driver.
type Event struct {
	Kind    EventKind
	At      time.Time       // when it happened (the clock reading given with the bytes)
	Version *record.Version // EventUp: the peer's version
	RTT     time.Duration   // EventRTT
	Block   [32]byte        // EventBlock: the block hash as on the wire
	// SendStamped (EventRTT): the ping's departure is the kernel's transmit
	// stamp (PingLeft); else the driver's clock reading before its write.
	SendStamped bool
}

// holdState is the hold part of a session (nil for a crawl session).
type holdState struct {
	cfg      *HoldConfig
	held     bool
	heldAt   time.Time
	nextPing time.Time
	pingSent time.Time // zero: no ping outstanding
	nonce    uint64
	winBytes uint64 // BytesIn at the start of the current ping window
	recent   [holdRecentBlocks][32]byte
	nrecent  int
	events   []Event
	dropped  int
	invBuf   []codec.InvVect
	// stampAsk: the bytes last returned end with a new ping (TakePingStamp);
	// stamped: pingSent is the kernel's transmit stamp (PingLeft).
	stampAsk, stamped bool
}

// Held reports whether the session is in hold mode past its handshake.
func (s *Session) Held() bool { return s.hold != nil && s.hold.held }

// Events returns the events reported since the last call (the slice is
// reused: consume it before calling Receive or Tick again) and how many
// were dropped because the driver did not drain them.
func (s *Session) Events() ([]Event, int) {
	if s.hold == nil {
		return nil, 0
	}
	ev, d := s.hold.events, s.hold.dropped
	s.hold.events, s.hold.dropped = s.hold.events[:0], 0
	return ev, d
}

func (h *holdState) emit(e Event) {
	if len(h.events) >= maxPendingEvents {
		h.dropped++
		return
	}
	h.events = append(h.events, e)
}

// enterHold replaces the end of a crawl session. The first ping is due at a
// random moment within PingMin: soon enough for a first RTT sample, and
// spread, so that a holder that (re)connects to thousands of nodes at once
// does not ping them all in the same second (nor measure its RTTs while it
// is busy connecting).
func (s *Session) enterHold(now time.Time) {
	h := s.hold
	if h.held {
		return
	}
	h.held, h.heldAt = true, now
	h.nextPing = now.Add(time.Duration(h.cfg.Rand() % uint64(h.cfg.PingMin)))
	h.winBytes = s.att.BytesIn
	s.frames = 0
	h.emit(Event{Kind: EventUp, At: now, Version: s.att.Version})
}

// holdDeadline is the next moment a held session needs Tick.
func (s *Session) holdDeadline() time.Time {
	h := s.hold
	d := h.heldAt.Add(h.cfg.Lifetime)
	if !h.pingSent.IsZero() {
		if w := h.pingSent.Add(h.cfg.PongWait); w.Before(d) {
			d = w
		}
	} else if h.nextPing.Before(d) {
		d = h.nextPing
	}
	return d
}

// holdTick pings when due and ends a session whose peer stopped answering
// or whose lifetime is over.
func (s *Session) holdTick(now time.Time, out []byte) []byte {
	h := s.hold
	switch {
	case !now.Before(h.heldAt.Add(h.cfg.Lifetime)):
		s.finish(record.ClassReachable, DetailLifetime)
	case !h.pingSent.IsZero() && !now.Before(h.pingSent.Add(h.cfg.PongWait)):
		s.finish(record.ClassReachable, fmt.Sprintf("held: no pong in %v", h.cfg.PongWait))
	case h.pingSent.IsZero() && !now.Before(h.nextPing):
		h.nonce = h.cfg.Rand() | 1 // never 0
		h.pingSent, h.stampAsk, h.stamped = now, true, false
		var b [8]byte
		out = s.send(out, codec.CmdPing, codec.AppendPing(b[:0], h.nonce))
		// A new ping window: the frame and byte caps count per window.
		h.winBytes = s.att.BytesIn
		s.frames = 0
	}
	return out
}

// TakePingStamp reports whether the bytes the session returned last end
// with a new ping, once per ping: a driver that can have the kernel stamp
// when a write's last byte leaves (a transmit stamp) asks for it on the
// write of those bytes, and hands the stamp to PingLeft. A driver calls it
// for every write of the session's bytes, so that a ping it could not
// write at once (queued behind earlier bytes) is not taken for a later
// write's.
func (s *Session) TakePingStamp() bool {
	h := s.hold
	if h == nil || !h.stampAsk {
		return false
	}
	h.stampAsk = false
	return true
}

// PingLeft tells the session when the outstanding ping's last byte left
// (the kernel's transmit stamp, on the clock of the readings the session
// is given): its RTT runs from there, not from the clock reading Tick
// took before the write, which also carries however long the driver's
// thread was held up before the write reached the kernel. A stamp before
// that reading (not a stamp of this ping) is ignored.
func (s *Session) PingLeft(at time.Time) {
	h := s.hold
	if h == nil || h.pingSent.IsZero() || h.stamped || at.Before(h.pingSent) {
		return
	}
	h.pingSent, h.stamped = at, true
}

// onPong takes an RTT sample from the pong to our outstanding ping.
func (s *Session) onPong(now time.Time, payload []byte) {
	h := s.hold
	if h == nil || h.pingSent.IsZero() {
		return
	}
	nonce, err := codec.DecodePong(payload)
	if err != nil || nonce != h.nonce {
		return // a stale or foreign pong: not a sample
	}
	h.emit(Event{Kind: EventRTT, At: now, RTT: now.Sub(h.pingSent), SendStamped: h.stamped})
	h.pingSent, h.stampAsk, h.stamped = time.Time{}, false, false
	span := h.cfg.PingMax - h.cfg.PingMin
	jitter := time.Duration(0)
	if span > 0 {
		jitter = time.Duration(h.cfg.Rand() % uint64(span+1))
	}
	h.nextPing = now.Add(h.cfg.PingMin + jitter)
}

// onInv reports block announcements, each hash once.
func (s *Session) onInv(now time.Time, payload []byte) {
	h := s.hold
	if h == nil || !h.held {
		return
	}
	var err error
	h.invBuf, _, err = codec.DecodeInv(payload, h.invBuf[:0], codec.InvType.IsBlock, holdBlocksPerInv)
	if err != nil {
		return // a malformed inv costs the peer nothing but the sample
	}
next:
	for _, v := range h.invBuf {
		for i := 0; i < min(h.nrecent, holdRecentBlocks); i++ {
			if h.recent[i] == v.Hash {
				continue next
			}
		}
		h.recent[h.nrecent%holdRecentBlocks] = v.Hash
		h.nrecent++
		h.emit(Event{Kind: EventBlock, At: now, Block: v.Hash})
	}
}

// overWindow reports whether a held session's peer sent more than the caps
// allow within the current ping window.
func (s *Session) overWindow() bool {
	return s.att.BytesIn-s.hold.winBytes > uint64(s.cfg.MaxBytesIn)
}
