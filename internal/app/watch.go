package app

import (
	"context"
	"errors"
	"time"

	"github.com/nodesweep/nodesweep/codec"
	"github.com/nodesweep/nodesweep/internal/census"
	"github.com/nodesweep/nodesweep/internal/crawl"
	"github.com/nodesweep/nodesweep/internal/engine"
	"github.com/nodesweep/nodesweep/internal/frontier"
	"github.com/nodesweep/nodesweep/internal/hold"
	"github.com/nodesweep/nodesweep/internal/record"
	"github.com/nodesweep/nodesweep/internal/watch"
	"github.com/nodesweep/nodesweep/store"
	"github.com/nodesweep/nodesweep/tuning"
)

// WatchOptions are what a watch adds to a crawl's options (engine, seeds,
// database, limits come from CrawlOptions; Interval is the re-test interval).
type WatchOptions struct {
	// Scale > 1 compresses time: every schedule duration (the interval,
	// reliability windows, back-offs, the getaddr cadence, retention and
	// store maintenance) is divided by it, while timestamps stay the real
	// clock's. --time-scale 360 makes a day pass in 4 minutes and a
	// 10-minute interval 1.67 s.
	Scale      float64
	Retention  time.Duration // of crawls and samples (0: store.DefaultRetention), unscaled
	FlushEvery time.Duration // 0: watch.DefaultFlushEvery
	Serve      *ServeOptions // serve the watch's census (nil: no serving)
	// Hold keeps one connection open to every good node (watch --hold:
	// internal/hold on the engine the options name), each taking one of the
	// node's inbound slots. Holder, if set, is used instead (tests).
	Hold   bool
	Holder watch.Holder
	// OnStart (tests) is given the running watch.
	OnStart    func(*watch.Watch)
	OnInterval func(id record.CrawlID, tested, good int)
}

// Watch runs a watch until ctx ends (see internal/watch). It serves its
// census as crawl --interval does when wo.Serve is set.
func Watch(ctx context.Context, o CrawlOptions, wo WatchOptions) (err error) {
	if o.Network.Name == "" {
		o.Network = codec.Mainnet
	}
	if o.DB == "" {
		return ErrNoSink
	}
	policy, err := buildPolicy(o)
	if err != nil {
		return err
	}
	scale := max(wo.Scale, 1)
	sc := func(d time.Duration) time.Duration { return time.Duration(float64(d) / scale) }
	timing := watch.NewTiming(sc(o.Interval), scale)
	if o.Interval <= 0 {
		timing = watch.NewTiming(0, scale)
	}
	retention := wo.Retention
	if retention == 0 {
		retention = store.DefaultRetention
	}
	if _, err := tuning.RaiseNoFile(); err != nil {
		o.Log.Warn().Err(err).Msg("could not raise the open-files limit")
	}
	maxConns, note := tuning.MaxConns(o.MaxConns)
	if note != "" {
		o.Log.Warn().Msg(note)
	}
	st, err := store.Open(o.DB, store.WithLogger(o.Log), store.WithRetention(sc(retention)),
		store.WithMaintenance(timing.Interval))
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, st.Close()) }()
	if m, uerr := st.LatestUnfinished(); uerr == nil && len(m.Flags) > 0 && m.Flags[0] == "watch" {
		// The interval a killed watch was in: its attempts are kept as a
		// finished (short) interval.
		err = errors.Join(err, st.FinishCrawl(m.ID, time.Now()))
	}
	wr, err := st.NewWriter()
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, wr.Close()) }()

	cen := census.New(census.Config{Scale: scale})
	var seeds []codec.Addr
	seeds, err = bootstrap(ctx, o)
	if err != nil && !errors.Is(err, ErrNoSeeds) {
		return err
	}
	var (
		holder  *hold.Holder
		observe func(watch.Event)
	)
	if wo.Hold && wo.Holder == nil {
		if holder, err = startHolder(o, scale, &observe); err != nil {
			return err
		}
		wo.Holder = holder
		defer func() { err = errors.Join(err, stopHolder(holder, crawl.DefaultDrain)) }()
	}
	w := watch.New(watch.Config{Network: o.Network.Name, Seeds: seeds, Timing: timing, Census: cen,
		Persist: st, Sink: wr, Routable: func(a codec.Addr) bool { return policy.Check(a) == frontier.Dial },
		Transport: o.Transport, MaxConns: maxConns, DialRate: o.DialRate, MaxBacklog: o.MaxBacklog, FlushEvery: wo.FlushEvery, Flags: append([]string{"watch"}, o.Flags...),
		Log: o.Log, Holder: wo.Holder, OnInterval: wo.OnInterval})
	observe = w.Observe
	// Two engines: one asks getaddr (first contact and about daily), one
	// only records the version (every other re-test).
	full, err := buildEngine(o, w.Deliver, w.Backlog())
	if err != nil {
		return err
	}
	quiet, err := buildEngineWith(o, sessionConfigWith(o, true), w.Deliver, w.Backlog())
	if err != nil {
		_ = full.Close()
		return err
	}
	w.SetDial(func(j engine.Job, getaddr bool) {
		if getaddr {
			full.Dial(j)
		} else {
			quiet.Dial(j)
		}
	})
	if wo.Serve != nil {
		so := *wo.Serve
		so.Census = cen
		sv, serr := Serve(&o, so)
		if serr != nil {
			_ = errors.Join(full.Close(), quiet.Close())
			return serr
		}
		defer func() { err = errors.Join(err, sv.Close()) }()
	}
	o.Log.Info().Str("network", o.Network.Name).Int("seeds", len(seeds)).Dur("interval", timing.Interval).
		Float64("time_scale", scale).Int("max_conns", maxConns).Msg("watch starting")
	if wo.OnStart != nil {
		wo.OnStart(w)
	}
	drain := crawl.DefaultDrain
	return w.Run(ctx, func() error {
		sctx, cancel := context.WithTimeout(context.Background(), drain)
		defer cancel()
		errc := make(chan error, 2)
		go func() { errc <- full.Shutdown(sctx) }()
		go func() { errc <- quiet.Shutdown(sctx) }()
		return errors.Join(<-errc, <-errc)
	})
}
