package api

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nodesweep/nodesweep/codec"
	"github.com/nodesweep/nodesweep/internal/census"
	"github.com/nodesweep/nodesweep/internal/export"
)

// Options configure the handler.
type Options struct {
	Census  census.Reader
	Geo     export.Geo   // geo fields of /nodes/ answers (snapshot rows carry their own); nil: null
	Metrics http.Handler // served on /metrics; nil: 404
	// Extra handlers on the same listener, by ServeMux pattern (the
	// dashboard on "/", the seeds dump on "/seeds.txt").
	Extra map[string]http.Handler
	Rate  float64 // requests/s per client IP (0: DefaultRate; negative: unlimited)
	Burst int     // (0: DefaultBurst)
}

// Pagination bounds (bitnodes': limit defaults to 10, at most 100).
const (
	DefaultLimit = 10
	MaxLimit     = 100
	maxQ         = 100 // bytes of an addresses search
)

type handler struct {
	o     Options
	cache snapshotCache
}

// Handler returns the API's handler with every guard applied.
func Handler(o Options) http.Handler {
	h := &handler{o: o}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/v1/snapshots/{$}", h.snapshots)
	mux.HandleFunc("GET /api/v1/snapshots/{ts}/{$}", h.snapshot)
	mux.HandleFunc("GET /api/v1/nodes/{node}/{$}", h.node)
	mux.HandleFunc("GET /api/v1/nodes/{node}/latency/{$}", h.latency)
	mux.HandleFunc("GET /api/v1/nodes/{node}/history/{$}", h.history)
	mux.HandleFunc("GET /api/v1/addresses/{$}", h.addresses)
	mux.HandleFunc("GET /api/v1/outcomes/{$}", h.outcomes)
	mux.HandleFunc("GET /api/v1/blocks/{$}", h.blocks)
	mux.HandleFunc("GET /api/v1/blocks/{hash}/{$}", h.block)
	mux.HandleFunc("GET /healthz", h.healthz)
	mux.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "no such endpoint: %s", r.URL.Path)
	})
	if o.Metrics != nil {
		mux.Handle("GET /metrics", o.Metrics)
	}
	for p, eh := range o.Extra {
		mux.Handle(p, eh)
	}
	if _, ok := o.Extra["/"]; !ok {
		mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
			writeError(w, http.StatusNotFound, "no such page: %s", r.URL.Path)
		})
	}
	return guard(newLimiter(o.Rate, o.Burst), mux)
}

// page reads ?page= and ?limit=.
func page(w http.ResponseWriter, r *http.Request) (offset, limit, pg int, ok bool) {
	q := r.URL.Query()
	pg, limit = 1, DefaultLimit
	if s := q.Get("page"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			writeError(w, http.StatusBadRequest, "page %q: want a positive integer", s)
			return 0, 0, 0, false
		}
		pg = n
	}
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			writeError(w, http.StatusBadRequest, "limit %q: want a positive integer (at most %d)", s, MaxLimit)
			return 0, 0, 0, false
		}
		limit = min(n, MaxLimit)
	}
	if pg > (1<<31)/limit {
		writeError(w, http.StatusNotFound, "Invalid page.")
		return 0, 0, 0, false
	}
	return (pg - 1) * limit, limit, pg, true
}

// pageLinks are bitnodes' absolute next/previous URLs (null at the ends).
func pageLinks(r *http.Request, pg, limit, total int) (next, prev *string) {
	link := func(p int) *string {
		q := url.Values{}
		for k, v := range r.URL.Query() {
			q[k] = v
		}
		q.Set("page", strconv.Itoa(p))
		if r.URL.Query().Get("limit") == "" {
			q.Del("limit")
		}
		s := baseURL(r) + r.URL.Path + "?" + q.Encode()
		return &s
	}
	if pg*limit < total {
		next = link(pg + 1)
	}
	if pg > 1 {
		prev = link(pg - 1)
	}
	return next, prev
}

func baseURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

type snapshotItem struct {
	URL          string `json:"url"`
	Timestamp    int64  `json:"timestamp"`
	TotalNodes   int    `json:"total_nodes"`
	LatestHeight int32  `json:"latest_height"`
}

type pageOf[T any] struct {
	Count    int     `json:"count"`
	Next     *string `json:"next"`
	Previous *string `json:"previous"`
	Results  []T     `json:"results"`
}

func (h *handler) snapshots(w http.ResponseWriter, r *http.Request) {
	off, limit, pg, ok := page(w, r)
	if !ok {
		return
	}
	list, total := h.o.Census.Snapshots(off, limit)
	if pg > 1 && len(list) == 0 {
		writeError(w, http.StatusNotFound, "Invalid page.")
		return
	}
	out := pageOf[snapshotItem]{Count: total, Results: make([]snapshotItem, 0, len(list))}
	out.Next, out.Previous = pageLinks(r, pg, limit, total)
	for _, s := range list {
		out.Results = append(out.Results, snapshotItem{URL: baseURL(r) + "/api/v1/snapshots/" + strconv.FormatInt(s.Timestamp, 10) + "/",
			Timestamp: s.Timestamp, TotalNodes: s.TotalNodes, LatestHeight: s.LatestHeight})
	}
	writeJSON(w, out)
}

func (h *handler) snapshot(w http.ResponseWriter, r *http.Request) {
	var ts int64
	if p := r.PathValue("ts"); p != "latest" {
		n, err := strconv.ParseInt(p, 10, 64)
		if err != nil || n <= 0 {
			writeError(w, http.StatusBadRequest, "snapshot %q: want a unix timestamp or latest", p)
			return
		}
		ts = n
	}
	field := r.URL.Query().Get("field")
	switch field {
	case "", "coordinates", "user_agents":
	default:
		writeError(w, http.StatusBadRequest, "field %q: want coordinates or user_agents", field)
		return
	}
	s, ok := h.o.Census.Snapshot(ts)
	switch {
	case !ok && ts == 0:
		writeError(w, http.StatusNotFound, "no snapshot yet: the first crawl round has not finished")
		return
	case !ok:
		writeError(w, http.StatusNotFound, "Not found.")
		return
	case s.Rows == nil && s.TotalNodes > 0:
		writeError(w, http.StatusGone, "snapshot %d: its node rows are no longer held (only the newest are)", s.Timestamp)
		return
	}
	body := h.cache.get(s, field)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("ETag", `"`+strconv.FormatInt(s.Timestamp, 10)+"-"+field+`"`)
	if ts == 0 {
		w.Header().Set("Cache-Control", "no-cache") // latest moves; revalidate with the ETag
	} else {
		w.Header().Set("Cache-Control", "public, max-age=86400, immutable")
	}
	http.ServeContent(w, r, "", time.Unix(s.Timestamp, 0), bytes.NewReader(body))
}

// snapshotCache keeps the last few rendered snapshot bodies: rendering the
// latest for every request would cost a full encode each time.
type snapshotCache struct {
	mu      sync.Mutex
	entries map[cacheKey]*rendered
	order   []cacheKey
}

type cacheKey struct {
	ts    int64
	field string
}

type rendered struct {
	once sync.Once
	body []byte
}

const cacheEntries = 8

func (c *snapshotCache) get(s census.Snapshot, field string) []byte {
	k := cacheKey{s.Timestamp, field}
	c.mu.Lock()
	if c.entries == nil {
		c.entries = map[cacheKey]*rendered{}
	}
	e := c.entries[k]
	if e == nil {
		e = &rendered{}
		c.entries[k] = e
		c.order = append(c.order, k)
		if len(c.order) > cacheEntries {
			delete(c.entries, c.order[0])
			c.order = c.order[1:]
		}
	}
	c.mu.Unlock()
	e.once.Do(func() { e.body = renderSnapshot(s, field) })
	return e.body
}

// renderSnapshot writes bitnodes' snapshot body: nodes keyed "ADDR:PORT",
// or the unique coordinates or user agents.
func renderSnapshot(s census.Snapshot, field string) []byte {
	var b bytes.Buffer
	b.WriteString(`{"timestamp": ` + strconv.FormatInt(s.Timestamp, 10) + `, "total_nodes": ` + strconv.Itoa(s.TotalNodes) +
		`, "latest_height": ` + strconv.FormatInt(int64(s.LatestHeight), 10) + `, `)
	switch field {
	case "coordinates":
		seen := map[[2]float64]bool{}
		coords := [][2]float64{}
		for _, row := range s.Rows {
			if row.Geo.Latitude == nil || row.Geo.Longitude == nil {
				continue
			}
			c := [2]float64{*row.Geo.Latitude, *row.Geo.Longitude}
			if !seen[c] {
				seen[c] = true
				coords = append(coords, c)
			}
		}
		j, _ := json.Marshal(coords)
		b.WriteString(`"coordinates": `)
		b.Write(j)
	case "user_agents":
		seen := map[string]bool{}
		uas := []string{}
		for _, row := range s.Rows {
			if ua := row.Version.UserAgent; row.Version.HasUserAgent && !seen[ua] {
				seen[ua] = true
				uas = append(uas, ua)
			}
		}
		j, _ := json.Marshal(uas)
		b.WriteString(`"user_agents": `)
		b.Write(j)
	default:
		b.WriteString(`"nodes": {`)
		for i, row := range s.Rows {
			if i > 0 {
				b.WriteString(", ")
			}
			k, _ := json.Marshal(row.Addr.String())
			b.Write(k)
			b.WriteString(": ")
			j, _ := json.Marshal(bitnodesRow(row.Version, &row.ConnectedSince, row.Geo))
			b.Write(j)
		}
		b.WriteString("}")
	}
	b.WriteString("}\n")
	return b.Bytes()
}

// bitnodesRow is the 13 fields: [protocol_version, user_agent,
// connected_since, services, height, hostname, city, country, latitude,
// longitude, timezone, asn, organization]; unknown values are null.
func bitnodesRow(v census.VersionInfo, since *int64, g export.GeoInfo) []any {
	row := make([]any, 13)
	row[0], row[3] = v.Protocol, v.Services
	if v.HasUserAgent {
		row[1] = v.UserAgent
	}
	if since != nil {
		row[2] = *since
	}
	if v.HasHeight {
		row[4] = v.Height
	}
	export.SetBitnodesGeo(row, g)
	return row
}

// parseNode reads bitnodes' "<addr>-<port>" (IPv6 without brackets).
func parseNode(w http.ResponseWriter, s string) (codec.Addr, bool) {
	i := strings.LastIndexByte(s, '-')
	if i <= 0 {
		writeError(w, http.StatusBadRequest, "node %q: want ADDRESS-PORT", s)
		return codec.Addr{}, false
	}
	port, err := strconv.ParseUint(s[i+1:], 10, 16)
	if err != nil {
		writeError(w, http.StatusBadRequest, "node %q: bad port", s)
		return codec.Addr{}, false
	}
	a, err := codec.ParseHost(strings.Trim(s[:i], "[]"), uint16(port))
	if err != nil {
		writeError(w, http.StatusBadRequest, "node %q: %v", s, err)
		return codec.Addr{}, false
	}
	return a, true
}

func (h *handler) lookupNode(w http.ResponseWriter, r *http.Request) (census.NodeView, bool) {
	a, ok := parseNode(w, r.PathValue("node"))
	if !ok {
		return census.NodeView{}, false
	}
	n, ok := h.o.Census.Node(a)
	if !ok {
		writeError(w, http.StatusNotFound, "Not found.")
	}
	return n, ok
}

func status(n *census.NodeView) string {
	if n.Up {
		return "UP"
	}
	return "DOWN"
}
