package app

import (
	"context"
	"time"

	"github.com/nodesweep/nodesweep/internal/census"
	"github.com/nodesweep/nodesweep/internal/engine"
	"github.com/nodesweep/nodesweep/internal/hold"
	"github.com/nodesweep/nodesweep/internal/session"
	"github.com/nodesweep/nodesweep/internal/watch"
)

// startHolder builds the holder of watch --hold on the engine o names. Its
// events reach the watch through observe, which is set once the watch
// exists (the holder must exist first: the watch is built with it). The
// ping cadence and retry back-off are divided by scale like every other
// watch duration.
func startHolder(o CrawlOptions, scale float64, observe *func(watch.Event)) (*hold.Holder, error) {
	base, err := engineOptions(o, sessionConfigWith(o, true), nil)
	if err != nil {
		return nil, err
	}
	sc := func(d time.Duration) time.Duration { return time.Duration(float64(d) / scale) }
	cfg := hold.Config{Engine: base, DialRate: o.DialRate,
		Hold: session.HoldConfig{PingMin: sc(session.DefaultPingMin), PingMax: sc(session.DefaultPingMax),
			PongWait: sc(session.DefaultPongWait), Lifetime: sc(session.DefaultLifetime)},
		RetryMin: sc(hold.DefaultRetryMin), RetryMax: sc(hold.DefaultRetryMax)}
	return hold.New(func(opts engine.Options) (engine.Engine, error) { return newEngine(o, opts) }, cfg,
		func(e hold.Event) {
			if ev, ok := watchEvent(e); ok && *observe != nil {
				(*observe)(ev)
			}
		})
}

// watchEvent is the watch's view of a holder event. A held session that
// ends for its daily version re-check is no failed test.
func watchEvent(e hold.Event) (watch.Event, bool) {
	ev := watch.Event{Addr: e.Addr, At: e.At, Height: -1}
	switch e.Kind {
	case hold.Up:
		ev.Kind, ev.Version = watch.EventUp, census.VersionOf(e.Version)
	case hold.Down:
		if e.Detail == session.DetailLifetime {
			return ev, false
		}
		ev.Kind = watch.EventDown
	case hold.RTT:
		ev.Kind, ev.RTT = watch.EventRTT, e.RTT
	case hold.Block:
		ev.Kind, ev.Block, ev.Height = watch.EventBlock, e.Block, e.Height
	case hold.VersionChanged:
		ev.Kind, ev.Version = watch.EventVersion, census.VersionOf(e.Version)
	default:
		return ev, false
	}
	return ev, true
}

// stopHolder ends the holder's connections within the drain period.
func stopHolder(h *hold.Holder, grace time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	return h.Shutdown(ctx)
}
