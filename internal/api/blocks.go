package api

import (
	"encoding/hex"
	"math"
	"net/http"
	"time"

	"github.com/nodesweep/nodesweep/internal/census"
)

// Block propagation (ours beyond bitnodes), from the held connections of
// watch --hold: per block its first arrival, first announcer and each held
// node's delay after it. Hashes are hex in the usual display order (the
// wire order reversed, as block explorers and bitcoind print them); times
// are unix seconds, delays milliseconds with microsecond precision.

type delayStats struct {
	P50 float64 `json:"p50"`
	P90 float64 `json:"p90"`
	P99 float64 `json:"p99"`
	Max float64 `json:"max"`
}

type blockItem struct {
	URL       string     `json:"url"`
	Hash      string     `json:"hash"`
	Height    *int32     `json:"height"` // null until k held nodes announced it
	FirstSeen float64    `json:"first_seen"`
	Announcer string     `json:"first_announcer"`
	Nodes     int        `json:"nodes"`
	DelayMs   delayStats `json:"delay_ms"`
}

type arrivalJSON struct {
	Node    string  `json:"node"`
	DelayMs float64 `json:"delay_ms"`
}

type blockBody struct {
	blockItem
	Arrivals []arrivalJSON `json:"arrivals"` // in arrival order; the first is the first announcer
}

// blockHash prints a wire-order hash in display order.
func blockHash(h [32]byte) string {
	var r [32]byte
	for i := range h {
		r[i] = h[31-i]
	}
	return hex.EncodeToString(r[:])
}

func parseBlockHash(s string) ([32]byte, bool) {
	var h [32]byte
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != 32 {
		return h, false
	}
	for i := range b {
		h[i] = b[31-i]
	}
	return h, true
}

func ms(d time.Duration) float64 { return math.Round(float64(d)/1e3) / 1e3 }

func unixFloat(t time.Time) float64 { return math.Round(float64(t.UnixNano())/1e6) / 1e3 }

func blockItemOf(r *http.Request, s *census.BlockSummary) blockItem {
	b := blockItem{Hash: blockHash(s.Hash), FirstSeen: unixFloat(s.First), Nodes: s.Nodes,
		DelayMs: delayStats{ms(s.P50), ms(s.P90), ms(s.P99), ms(s.Max)}}
	b.URL = baseURL(r) + "/api/v1/blocks/" + b.Hash + "/"
	if s.Height >= 0 {
		h := s.Height
		b.Height = &h
	}
	if s.Announcer.IsValid() {
		b.Announcer = s.Announcer.String()
	}
	return b
}

func (h *handler) blocks(w http.ResponseWriter, r *http.Request) {
	off, limit, pg, ok := page(w, r)
	if !ok {
		return
	}
	list, total := h.o.Census.Blocks(off, limit)
	if pg > 1 && len(list) == 0 {
		writeError(w, http.StatusNotFound, "Invalid page.")
		return
	}
	out := pageOf[blockItem]{Count: total, Results: make([]blockItem, 0, len(list))}
	out.Next, out.Previous = pageLinks(r, pg, limit, total)
	for i := range list {
		out.Results = append(out.Results, blockItemOf(r, &list[i]))
	}
	writeJSON(w, out)
}

func (h *handler) block(w http.ResponseWriter, r *http.Request) {
	p := r.PathValue("hash")
	hash, ok := parseBlockHash(p)
	if !ok {
		writeError(w, http.StatusBadRequest, "block %q: want a 64-digit hex hash", p)
		return
	}
	b, ok := h.o.Census.Block(hash)
	if !ok {
		writeError(w, http.StatusNotFound, "Not found.")
		return
	}
	out := blockBody{blockItem: blockItemOf(r, &b.BlockSummary), Arrivals: make([]arrivalJSON, len(b.Arrivals))}
	for i, a := range b.Arrivals {
		out.Arrivals[i] = arrivalJSON{Node: a.Addr.String(), DelayMs: ms(a.Delay)}
	}
	writeJSON(w, out)
}
