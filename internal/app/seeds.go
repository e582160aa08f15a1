package app

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nodesweep/nodesweep/codec"
	"github.com/nodesweep/nodesweep/internal/record"
	"github.com/nodesweep/nodesweep/internal/seeds"
	"github.com/nodesweep/nodesweep/store"
)

func loadGiven(ctx context.Context, p codec.Params, r seeds.Resolver, list []string, file string) ([]codec.Addr, error) {
	out, err := seeds.ParseAll(ctx, p, r, list)
	if err != nil {
		return nil, err
	}
	if file != "" {
		f, err := seeds.ReadFile(ctx, p, r, file)
		if err != nil {
			return nil, fmt.Errorf("seeds file: %w", err)
		}
		out = append(out, f...)
	}
	return seeds.Dedup(out), nil
}

// givenSeeds reports whether o names its own starting points; without them
// (and not resuming) a crawl uses the network's default bootstrap.
func givenSeeds(o CrawlOptions) bool {
	return len(o.Seeds) > 0 || o.SeedsFile != "" || o.SeedFromCrawl != 0 || o.Resume
}

// bootstrap returns a crawl's seeds: the reachable nodes of --seed-from-crawl
// first, then --seed and --seeds-file; or, when none of these is given and
// the crawl is not resumed, the network's DNS seeds (fixed seeds if DNS gives
// nothing).
func bootstrap(ctx context.Context, o CrawlOptions) ([]codec.Addr, error) {
	r, err := seeds.NewResolver(o.DNSServer)
	if err != nil {
		return nil, err
	}
	if !givenSeeds(o) {
		addrs, b, err := seeds.Default(ctx, o.Network, seeds.Options{Resolver: r, Timeout: o.DNSTimeout, NoFixed: o.NoFixedSeeds})
		for _, s := range b.DNS {
			ev := o.Log.Info()
			if s.Err != nil {
				ev = o.Log.Warn().Err(s.Err)
			}
			ev.Str("seed", s.Name).Int("addrs", s.Addrs).Msg("DNS seed")
		}
		if b.Fixed > 0 {
			o.Log.Warn().Int("fixed", b.Fixed).Msg("no DNS seed answered: starting from the embedded fixed seeds")
		}
		return addrs, err
	}
	var prev []codec.Addr
	if o.SeedFromCrawl != 0 {
		if prev, err = reachableOf(o, o.SeedFromCrawl); err != nil {
			return nil, err
		}
		o.Log.Info().Str("crawl", o.SeedFromCrawl.String()).Int("reachable", len(prev)).Msg("seeding from an earlier crawl")
	}
	given, err := loadGiven(ctx, o.Network, r, o.Seeds, o.SeedsFile)
	if err != nil {
		return nil, err
	}
	return seeds.Dedup(append(prev, given...)), nil
}

// reachableOf reads the reachable nodes of crawl id from the store in o.DB.
func reachableOf(o CrawlOptions, id record.CrawlID) ([]codec.Addr, error) {
	if o.DB == "" {
		return nil, errors.New("seeding from an earlier crawl: no database given")
	}
	st, err := store.Open(o.DB, store.WithReadOnly(), store.WithLogger(o.Log))
	if err != nil {
		return nil, fmt.Errorf("seeding from crawl %s: %w", id, err)
	}
	defer st.Close()
	if _, err := st.Crawl(id); err != nil {
		return nil, fmt.Errorf("seeding from crawl %s: %w", id, err)
	}
	return seeds.FromCrawl(st, id)
}

// reachableSink passes everything to Sink and keeps the addresses that
// completed the handshake: an --interval round seeds the next from them.
type reachableSink struct {
	record.Sink
	addrs []codec.Addr
}

func (s *reachableSink) Record(a *record.Attempt) error {
	err := s.Sink.Record(a)
	if a.Class.Reachable() {
		s.addrs = append(s.addrs, a.Addr)
	}
	return err
}

// sleepUntil waits until t or ctx's end; false if ctx ended.
func sleepUntil(ctx context.Context, t time.Time) bool {
	d := time.Until(t)
	if d <= 0 {
		return ctx.Err() == nil
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return true
	case <-ctx.Done():
		return false
	}
}
