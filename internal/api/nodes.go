package api

import (
	"net/http"
	"strconv"
	"time"

	"github.com/nodesweep/nodesweep/internal/census"
	"github.com/nodesweep/nodesweep/internal/export"
	"github.com/nodesweep/nodesweep/internal/record"
)

// nodeStatus is bitnodes' node status shape. We measure no bandwidth and
// verify no operator addresses: mbps is null, bitcoin_address and url
// empty, verified false.
type nodeStatus struct {
	Hostname       string  `json:"hostname"`
	Address        string  `json:"address"`
	Status         string  `json:"status"`
	Data           []any   `json:"data"`
	BitcoinAddress string  `json:"bitcoin_address"`
	URL            string  `json:"url"`
	Verified       bool    `json:"verified"`
	Mbps           *string `json:"mbps"`
}

func (h *handler) geo(n *census.NodeView) export.GeoInfo {
	if h.o.Geo == nil {
		return export.GeoInfo{}
	}
	g, _ := h.o.Geo.Lookup(n.Addr)
	return g
}

func (h *handler) node(w http.ResponseWriter, r *http.Request) {
	n, ok := h.lookupNode(w, r)
	if !ok {
		return
	}
	g := h.geo(&n)
	var v census.VersionInfo
	if n.Version != nil {
		v = *n.Version
	}
	var since *int64
	if n.Up {
		s := n.UpSince.Unix()
		since = &s
	}
	writeJSON(w, nodeStatus{Hostname: g.Hostname, Address: n.Addr.Host(), Status: status(&n), Data: bitnodesRow(v, since, g)})
}

type latencyBody struct {
	Daily   []census.Sample `json:"daily_latency"`
	Weekly  []census.Sample `json:"weekly_latency"`
	Monthly []census.Sample `json:"monthly_latency"`
}

func nonNil(s []census.Sample) []census.Sample {
	if s == nil {
		return []census.Sample{}
	}
	return s
}

// latency is bitnodes' latency shape: v in milliseconds (a held node's
// ping round trip, as bitnodes' pinger; otherwise our connect round
// trip), −1 down, 0 no data; daily one point per round (per 10 minutes of
// pings), weekly per hour, monthly per day.
func (h *handler) latency(w http.ResponseWriter, r *http.Request) {
	n, ok := h.lookupNode(w, r)
	if !ok {
		return
	}
	writeJSON(w, latencyBody{Daily: nonNil(n.Daily), Weekly: nonNil(n.Weekly), Monthly: nonNil(n.Monthly)})
}

type versionJSON struct {
	Protocol  int32   `json:"protocol_version"`
	UserAgent *string `json:"user_agent"`
	Services  uint64  `json:"services"`
	Height    *int32  `json:"height"`
}

func versionOf(v *census.VersionInfo) *versionJSON {
	if v == nil {
		return nil
	}
	out := &versionJSON{Protocol: v.Protocol, Services: v.Services}
	if v.HasUserAgent {
		out.UserAgent = &v.UserAgent
	}
	if v.HasHeight {
		out.Height = &v.Height
	}
	return out
}

type changeJSON struct {
	At   int64        `json:"at"`
	From *versionJSON `json:"from"`
	To   *versionJSON `json:"to"`
}

type intervalJSON struct {
	From   int64 `json:"from"`
	To     int64 `json:"to"`
	Up     bool  `json:"up"`
	Rounds int   `json:"rounds"`
}

type historyBody struct {
	Address     string                 `json:"address"`
	Port        uint16                 `json:"port"`
	Network     string                 `json:"network"`
	Status      string                 `json:"status"`
	LastOutcome string                 `json:"last_outcome"`
	Transport   string                 `json:"transport"`            // v1 or v2 (BIP324), as last tested
	V2Failure   string                 `json:"v2_failure,omitempty"` // why v2 failed before a v1 fallback
	FirstTry    int64                  `json:"first_try"`
	LastTry     int64                  `json:"last_try"`
	LastSuccess *int64                 `json:"last_success"`
	UpSince     *int64                 `json:"up_since"`
	Tests       int                    `json:"tests"`
	Good        int                    `json:"good"`
	Reliable    bool                   `json:"reliable"`
	Reliability map[string]census.Stat `json:"reliability"`
	Version     *versionJSON           `json:"version"`
	Intervals   []intervalJSON         `json:"intervals"`
	Changes     []changeJSON           `json:"version_changes"`
}

func v2Failure(f record.V2Failure) string {
	if f == record.V2OK {
		return ""
	}
	return f.String()
}

func unixOrNil(t time.Time) *int64 {
	if t.IsZero() {
		return nil
	}
	v := t.Unix()
	return &v
}

func history(n *census.NodeView) historyBody {
	b := historyBody{Address: n.Addr.Host(), Port: n.Addr.Port(), Network: n.Addr.Network().String(), Status: status(n),
		LastOutcome: n.LastClass.String(), Transport: n.Transport.String(), V2Failure: v2Failure(n.V2Failure),
		FirstTry: n.FirstTry.Unix(), LastTry: n.LastTry.Unix(),
		LastSuccess: unixOrNil(n.LastSuccess), Tests: n.Tests, Good: n.Good, Reliable: n.Reliable,
		Reliability: map[string]census.Stat{}, Version: versionOf(n.Version),
		Intervals: []intervalJSON{}, Changes: []changeJSON{}}
	if n.Up {
		b.UpSince = unixOrNil(n.UpSince)
	}
	for i, name := range census.WindowNames {
		b.Reliability[name] = n.Stats[i]
	}
	for _, iv := range n.Intervals {
		b.Intervals = append(b.Intervals, intervalJSON{iv.From.Unix(), iv.To.Unix(), iv.Up, iv.Rounds})
	}
	for _, c := range n.Changes {
		b.Changes = append(b.Changes, changeJSON{At: c.At.Unix(), From: versionOf(&c.From), To: versionOf(&c.To)})
	}
	return b
}

// history is ours: up/down intervals, reliability windows, version changes.
func (h *handler) history(w http.ResponseWriter, r *http.Request) {
	n, ok := h.lookupNode(w, r)
	if !ok {
		return
	}
	writeJSON(w, history(&n))
}

type addressItem struct {
	Address     string `json:"address"`
	Port        uint16 `json:"port"`
	Network     string `json:"network"`
	Status      string `json:"status"`
	LastOutcome string `json:"last_outcome"`
	LastTry     int64  `json:"last_try"`
	Reliable    bool   `json:"reliable"`
	URL         string `json:"url"`
}

func (h *handler) addresses(w http.ResponseWriter, r *http.Request) {
	off, limit, pg, ok := page(w, r)
	if !ok {
		return
	}
	q := r.URL.Query().Get("q")
	if len(q) > maxQ {
		writeError(w, http.StatusBadRequest, "q: at most %d bytes", maxQ)
		return
	}
	list, total := h.o.Census.Addresses(q, off, limit)
	if pg > 1 && len(list) == 0 {
		writeError(w, http.StatusNotFound, "Invalid page.")
		return
	}
	out := pageOf[addressItem]{Count: total, Results: make([]addressItem, 0, len(list))}
	out.Next, out.Previous = pageLinks(r, pg, limit, total)
	for i := range list {
		n := &list[i]
		out.Results = append(out.Results, addressItem{Address: n.Addr.Host(), Port: n.Addr.Port(), Network: n.Addr.Network().String(),
			Status: status(n), LastOutcome: n.LastClass.String(), LastTry: n.LastTry.Unix(), Reliable: n.Reliable,
			URL: baseURL(r) + "/api/v1/nodes/" + n.Addr.Host() + "-" + strconv.Itoa(int(n.Addr.Port())) + "/"})
	}
	writeJSON(w, out)
}

type outcomesBody struct {
	Timestamp  int64          `json:"timestamp"`
	Dialled    int            `json:"dialled"`
	TotalNodes int            `json:"total_nodes"`
	Classes    []census.Count `json:"classes"`
}

// outcomes is ours: how the round's unreachable addresses failed, by class.
func (h *handler) outcomes(w http.ResponseWriter, r *http.Request) {
	var ts int64
	if s := r.URL.Query().Get("timestamp"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n <= 0 {
			writeError(w, http.StatusBadRequest, "timestamp %q: want a unix timestamp", s)
			return
		}
		ts = n
	}
	s, ok := h.o.Census.Snapshot(ts)
	if !ok {
		writeError(w, http.StatusNotFound, "Not found.")
		return
	}
	cl := s.Outcomes
	if cl == nil {
		cl = []census.Count{}
	}
	writeJSON(w, outcomesBody{Timestamp: s.Timestamp, Dialled: s.Dialled, TotalNodes: s.TotalNodes, Classes: cl})
}

type healthBody struct {
	Status  string `json:"status"`
	Rounds  int    `json:"rounds"`
	Nodes   int    `json:"nodes"`
	Latest  *int64 `json:"latest_snapshot"`
	Dropped int    `json:"dropped_addresses"`
}

func (h *handler) healthz(w http.ResponseWriter, r *http.Request) {
	st := h.o.Census.Stats()
	b := healthBody{Status: "starting", Rounds: st.Rounds, Nodes: st.Nodes, Dropped: st.Dropped}
	if s, ok := h.o.Census.Snapshot(0); ok {
		b.Status = "ok"
		b.Latest = &s.Timestamp
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, b)
}
