package app

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/nodesweep/nodesweep/codec"
	"github.com/nodesweep/nodesweep/internal/api"
	"github.com/nodesweep/nodesweep/internal/census"
	"github.com/nodesweep/nodesweep/internal/dashboard"
	"github.com/nodesweep/nodesweep/internal/dnsseed"
	"github.com/nodesweep/nodesweep/internal/enrich"
	"github.com/nodesweep/nodesweep/internal/export"
	"github.com/nodesweep/nodesweep/internal/frontier"
	"github.com/nodesweep/nodesweep/internal/metrics"
	"github.com/nodesweep/nodesweep/internal/record"
	"github.com/nodesweep/nodesweep/store"
)

// ServeOptions say what a crawl process serves while it runs.
type ServeOptions struct {
	HTTP string // API, dashboard, /metrics, /healthz on this address ("" = off; a bare port binds 127.0.0.1)
	DNS  string // DNS seeder on this address, UDP and TCP ("" = off; a bare port binds 127.0.0.1)

	DNSZone    string
	DNSNS      string
	DNSMbox    string
	DNSRefresh time.Duration // cache rebuild (0: dnsseed.DefaultRefresh)
	DNSPort    uint16        // the port good nodes listen on (0: the network's default)
	DNSRate    float64       // queries/s per source (0: dnsseed.DefaultRate; negative: unlimited)
	APIRate    float64       // requests/s per client (0: api.DefaultRate; negative: unlimited)

	GeoIP, ASN    string // .mmdb files for the snapshot rows' geo fields
	KeepSnapshots int    // rounds whose node rows are held (0: census.DefaultKeepSnapshots)

	// Census, if set, is served as it is (the watch's, restored from its
	// own state) instead of one loaded from the store's finished crawls.
	Census *census.Census

	// OnServe (tests) is told the bound addresses.
	OnServe func(httpAddr, dnsAddr string)
}

// Serving is what Serve started.
type Serving struct {
	Census *census.Census
	http   *api.Server
	dns    *dnsseed.Server
	geo    *enrich.ExportGeo
	once   sync.Once
	err    error
}

// Serve builds the census from o.DB's finished crawls, starts the HTTP and
// DNS listeners of so, and sets o.Tap and o.Exporter so that every crawl
// Crawl runs is folded into the census as it finishes. Close stops them.
func Serve(o *CrawlOptions, so ServeOptions) (*Serving, error) {
	if so.HTTP == "" && so.DNS == "" {
		return nil, errors.New("serve: neither an HTTP nor a DNS address")
	}
	if o.Network.Name == "" {
		o.Network = codec.Mainnet
	}
	sv := &Serving{}
	var geo export.Geo
	if so.GeoIP != "" || so.ASN != "" {
		g, err := enrich.Open(so.GeoIP, so.ASN)
		if err != nil {
			return nil, err
		}
		sv.geo = &enrich.ExportGeo{Geo: g}
		geo = sv.geo
	}
	if sv.Census = so.Census; sv.Census == nil {
		sv.Census = census.New(census.Config{Geo: geo, KeepSnapshots: so.KeepSnapshots})
		if err := loadCensus(sv.Census, o.DB); err != nil {
			sv.Close()
			return nil, err
		}
		st := sv.Census.Stats()
		o.Log.Info().Int("rounds", st.Rounds).Int("nodes", st.Nodes).Msg("census loaded from the store")
	}
	network := o.Network.Name
	o.Tap = func(id record.CrawlID, start time.Time, s record.Sink) (record.Sink, func(time.Time, bool)) {
		t := sv.Census.Tap(id, network, start, s)
		return t, t.Finish
	}
	if o.Exporter == nil {
		o.Exporter = metrics.New(network)
	}
	var seeder *dnsseed.Seeder
	if so.DNS != "" {
		if so.DNSZone == "" || so.DNSNS == "" {
			sv.Close()
			return nil, errors.New("--dns needs --dns-zone and --dns-ns")
		}
		port := so.DNSPort
		if port == 0 {
			port = o.Network.DefaultPort
		}
		policy, err := buildPolicy(*o)
		if err != nil {
			sv.Close()
			return nil, err
		}
		seeder, err = dnsseed.New(dnsseed.Config{Zone: so.DNSZone, NS: so.DNSNS, Mbox: so.DNSMbox, Census: sv.Census,
			Port: port, Refresh: so.DNSRefresh, Rate: so.DNSRate,
			Routable: func(a codec.Addr) bool { return policy.Check(a) == frontier.Dial }})
		if err != nil {
			sv.Close()
			return nil, err
		}
		if sv.dns, err = seeder.Listen(api.ListenAddr(so.DNS)); err != nil {
			sv.Close()
			return nil, err
		}
		o.Log.Info().Str("addr", sv.dns.Addr()).Str("zone", so.DNSZone).Msg("serving DNS seeds")
	}
	if so.HTTP != "" {
		h, err := sv.handler(o.Exporter, seeder, network, so.APIRate)
		if err != nil {
			sv.Close()
			return nil, err
		}
		if sv.http, err = api.Listen(so.HTTP, h, 0); err != nil {
			sv.Close()
			return nil, err
		}
		o.Log.Info().Str("url", "http://"+sv.http.Addr()+"/").Msg("serving the census API and dashboard")
	}
	if so.OnServe != nil {
		so.OnServe(sv.HTTPAddr(), sv.DNSAddr())
	}
	return sv, nil
}

func (sv *Serving) handler(exp *metrics.Exporter, seeder *dnsseed.Seeder, network string, rate float64) (http.Handler, error) {
	reg := prometheus.NewRegistry()
	if err := reg.Register(exp); err != nil {
		return nil, err
	}
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	c := sv.Census
	gauge := func(name, help string, f func() float64) {
		reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, f))
	}
	gauge("nodesweep_census_addresses", "Addresses the census tracks.", func() float64 { return float64(c.Stats().Nodes) })
	gauge("nodesweep_census_rounds", "Crawl rounds the census holds.", func() float64 { return float64(c.Stats().Rounds) })
	extra := map[string]http.Handler{"/": dashboard.Handler(dashboard.Options{Census: c, Network: network})}
	if seeder != nil {
		extra["GET /seeds.txt"] = seeder.DumpHandler()
		s := seeder
		gauge("nodesweep_dns_good_nodes", "Good nodes in the DNS seeder's cache.", func() float64 { return float64(s.GoodCount()) })
		gauge("nodesweep_dns_queries", "DNS queries received.", func() float64 { return float64(s.Queries.Load()) })
		gauge("nodesweep_dns_dropped", "DNS queries dropped by the per-source rate limit.", func() float64 { return float64(s.Dropped.Load()) })
	}
	return api.Handler(api.Options{Census: c, Geo: geoOrNil(sv.geo), Rate: rate,
		Metrics: promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}), Extra: extra}), nil
}

func geoOrNil(g *enrich.ExportGeo) export.Geo {
	if g == nil {
		return nil
	}
	return g
}

// loadCensus folds the finished crawls of the store in dir into c; a
// missing store is an empty census.
func loadCensus(c *census.Census, dir string) error {
	if dir == "" {
		return nil
	}
	if _, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	st, err := store.Open(dir, store.WithReadOnly())
	if err != nil {
		return fmt.Errorf("serve: reading the census from %s: %w", dir, err)
	}
	return errors.Join(c.Load(st), st.Close())
}

// HTTPAddr is the bound HTTP address ("" if off).
func (sv *Serving) HTTPAddr() string {
	if sv.http == nil {
		return ""
	}
	return sv.http.Addr()
}

// DNSAddr is the bound DNS address ("" if off).
func (sv *Serving) DNSAddr() string {
	if sv.dns == nil {
		return ""
	}
	return sv.dns.Addr()
}

// Close stops the listeners, giving requests under way 5 s. Later calls
// return the first's result.
func (sv *Serving) Close() error {
	sv.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if sv.http != nil {
			sv.err = errors.Join(sv.err, sv.http.Shutdown(ctx))
		}
		if sv.dns != nil {
			sv.err = errors.Join(sv.err, sv.dns.Shutdown(ctx))
		}
		if sv.geo != nil {
			sv.geo.Close()
		}
	})
	return sv.err
}
