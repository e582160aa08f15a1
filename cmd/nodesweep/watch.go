package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"time"

	"github.com/nodesweep/nodesweep/internal/app"
	"github.com/nodesweep/nodesweep/store"
)

func init() {
	register("watch", "keep the census current: re-test every node each interval, discover continuously, serve", runWatch)
}

func runWatch(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("watch", flag.ContinueOnError)
	var (
		o  app.CrawlOptions
		wo app.WatchOptions
		so app.ServeOptions
	)
	dial := addDialFlags(fs, &o)
	fs.DurationVar(&o.Interval, "interval", 10*time.Minute, "re-test every reachable node once per `D`, spread evenly; a snapshot every D")
	fs.Float64Var(&wo.Scale, "time-scale", 1, "compress time by `F` (tests, simulations): every duration (interval, reliability windows, back-offs, getaddr cadence, retention) is divided by F; timestamps stay real. 360: a day in 4 minutes")
	fs.DurationVar(&wo.Retention, "retention", store.DefaultRetention, "keep interval crawls and samples this long (0: forever); scaled by --time-scale")
	fs.DurationVar(&wo.FlushEvery, "flush-every", 0, "make attempts and node state durable this often (default 5s): what a kill -9 can lose")
	fs.BoolVar(&wo.Hold, "hold", false, "also keep one connection open to every good node (pings for RTT, block announcements, daily version re-check; held sessions speak v1); off by default: each held connection takes one of the node's ~114 inbound slots")
	serve := addServeFlags(fs, &so)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if _, err := dial.apply(fs, &o); err != nil {
		return err
	}
	if wo.Scale < 1 {
		return fmt.Errorf("--time-scale %g: want ≥ 1", wo.Scale)
	}
	if o.Interval <= 0 {
		return fmt.Errorf("--interval %s: want > 0", o.Interval)
	}
	o.Flags = args
	if wo.Retention == 0 {
		wo.Retention = -1 // keep everything
	}
	serving, err := serve.apply(&so)
	if err != nil {
		return err
	}
	if serving {
		wo.Serve = &so
	}
	err = app.Watch(ctx, o, wo)
	if errors.Is(err, app.ErrNoSink) {
		err = fmt.Errorf("%w: give --db DIR", err)
	}
	return err
}
