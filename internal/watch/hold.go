package watch

import (
	"time"

	"github.com/nodesweep/nodesweep/codec"
	"github.com/nodesweep/nodesweep/internal/census"
	"github.com/nodesweep/nodesweep/internal/record"
)

// --hold plugs in here. A Holder keeps one long-lived session per node
// (bitnodes' pinger); the watch tells it which nodes to hold (each node
// found good) and which to let go (a node no longer re-tested every
// interval), and the holder reports what it sees through Watch.Observe.
// Without a holder the watch's re-tests are its only evidence.
type Holder interface {
	Hold(codec.Addr)
	Release(codec.Addr)
}

// EventKind is what a held session saw.
type EventKind uint8

// Event kinds.
const (
	EventUp      EventKind = iota + 1 // session (re)established: a good test
	EventDown                         // session lost and reconnect failed: a failed test
	EventRTT                          // ping/pong round trip
	EventBlock                        // block announced by inv
	EventVersion                      // daily version re-check
)

// Event is one observation of a held session.
type Event struct {
	Kind    EventKind
	Addr    codec.Addr
	At      time.Time
	RTT     time.Duration
	Block   [32]byte
	Height  int32 // −1 if unknown
	Version *census.VersionInfo
}

// Observe hands a holder's event to the watch (safe from any goroutine;
// it blocks only when 4096 events wait).
func (w *Watch) Observe(ev Event) { w.events <- ev }

// HoldEvents is how many events of kind the holder reported (safe from any
// goroutine).
func (w *Watch) HoldEvents(kind EventKind) int64 {
	if int(kind) >= len(w.holdEvents) {
		return 0
	}
	return w.holdEvents[kind].Load()
}

// observeEvent folds an event in, in the watch's loop. Up and down are
// tests of the node (they move its windows and up streak); an RTT sample
// goes into the node's latency, a version re-check into its version
// history, a block announcement into the census's block propagation. The
// node's state and the block are saved at the next flush.
func (w *Watch) observeEvent(ev Event) {
	if int(ev.Kind) < len(w.holdEvents) {
		w.holdEvents[ev.Kind].Add(1)
	}
	switch ev.Kind {
	case EventUp, EventDown:
		o := census.Observation{Addr: ev.Addr, Start: ev.At, End: ev.At, ConnectRTT: ev.RTT, Version: ev.Version, Tries: 1, Held: true}
		o.Class = classDown
		if ev.Kind == EventUp {
			o.Class = classUp
		}
		w.cfg.Census.Observe(o)
		w.dirty[ev.Addr] = true
	case EventRTT:
		if w.cfg.Census.ObserveRTT(ev.Addr, ev.At, ev.RTT) {
			w.dirty[ev.Addr] = true
		}
	case EventVersion:
		if ev.Version != nil && w.cfg.Census.ObserveVersion(ev.Addr, ev.At, *ev.Version) {
			w.dirty[ev.Addr] = true
		}
	case EventBlock:
		w.cfg.Census.ObserveBlock(ev.Block, ev.Height, ev.Addr, ev.At)
	}
}

// The classes a held session's up and down count as.
const (
	classUp   = record.ClassReachable
	classDown = record.ClassReset
)
