package simnet

import (
	"context"
	"errors"
	"sync/atomic"
	"time"
)

// A Tor daemon builds a circuit for every onion connect (1–5 s on the real
// network) and has a bound on circuits pending; past it, new connects fail.
// The SOCKS front does the same when Config.CircuitMin/Max and
// CircuitsPending are set, so a crawler's proxied cap and rate can be
// tested: an overload is counted, never hidden.

// circuits counts the front's pending circuit builds.
type circuits struct {
	pending, peak, overloads atomic.Int64
}

// errCircuitOverload is what a connect beyond CircuitsPending gets (go-socks5
// answers it with a general failure, as Tor does).
var errCircuitOverload = errors.New("simnet socks: too many circuits pending")

// buildCircuit waits onion u's circuit-build time, holding one of the
// CircuitsPending slots; it refuses at once when none is free.
func (n *Network) buildCircuit(ctx context.Context, u uint32) error {
	c := &n.circuits
	p := c.pending.Add(1)
	defer c.pending.Add(-1)
	if lim := n.cfg.CircuitsPending; lim > 0 && p > int64(lim) {
		c.overloads.Add(1)
		return errCircuitOverload
	}
	for old := c.peak.Load(); p > old && !c.peak.CompareAndSwap(old, p); old = c.peak.Load() {
	}
	d := n.cfg.CircuitMin
	if span := n.cfg.CircuitMax - n.cfg.CircuitMin; span > 0 {
		d += time.Duration(n.lay.h(u, saltCircuit) % uint64(span))
	}
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-n.ctx.Done():
		return errors.New("simnet: closing")
	}
}
