package nodes

import (
	"errors"
	"fmt"
	"math/bits"
	"sort"
	"time"

	"github.com/nodesweep/nodesweep/codec"
	"github.com/nodesweep/nodesweep/internal/record"
	"github.com/nodesweep/nodesweep/store"
)

// ErrNoCrawl: the database holds no crawl to read.
var ErrNoCrawl = errors.New("no crawl in the database")

// Node is one address of a crawl.
type Node struct {
	Addr  codec.Addr
	Tries int
	// Attempt is the attempt that counts: the first that completed the
	// handshake, otherwise the last one. Its Addrs are not loaded.
	Attempt *record.Attempt
}

// Reachable reports whether the node completed the version handshake.
func (n *Node) Reachable() bool { return n.Attempt.Class.Reachable() }

// Class is the outcome class of the attempt that counts.
func (n *Node) Class() record.Class { return n.Attempt.Class }

// Version is the node's version message, nil if none was received.
func (n *Node) Version() *record.Version { return n.Attempt.Version }

// Network is the address's network.
func (n *Node) Network() codec.Network { return n.Addr.Network() }

// Each calls fn once per address attempted in the crawl, in the store's
// address order (network, then address bytes, then port).
func Each(src store.Reader, id record.CrawlID, fn func(*Node) error) error {
	var cur *Node
	flush := func() error {
		if cur == nil {
			return nil
		}
		n := cur
		cur = nil
		return fn(n)
	}
	err := src.EachAttempt(id, store.ReadOptions{}, func(a *record.Attempt) error {
		if cur != nil && cur.Addr != a.Addr {
			if err := flush(); err != nil {
				return err
			}
		}
		if cur == nil {
			cur = &Node{Addr: a.Addr}
		}
		cur.Tries++
		if cur.Attempt == nil || !cur.Attempt.Class.Reachable() {
			cur.Attempt = a
		}
		return nil
	})
	if err != nil {
		return err
	}
	return flush()
}

// Reachable returns the crawl's nodes that completed the handshake.
func Reachable(src store.Reader, id record.CrawlID) ([]*Node, error) {
	var out []*Node
	err := Each(src, id, func(n *Node) error {
		if n.Reachable() {
			out = append(out, n)
		}
		return nil
	})
	return out, err
}

// Resolve returns the crawl to read: id if non-zero, else the newest.
func Resolve(src store.Reader, id record.CrawlID) (store.CrawlInfo, error) {
	if id == 0 {
		m, err := src.LatestCrawl()
		if errors.Is(err, store.ErrNotFound) {
			return store.CrawlInfo{}, ErrNoCrawl
		}
		if err != nil {
			return store.CrawlInfo{}, err
		}
		id = m.ID
	}
	return src.Crawl(id) // errors name the crawl
}

// Service flags (BIP 111, 144, 157, 159, 324; Core protocol.h).
const (
	NodeNetwork        = 1
	NodeGetUTXO        = 2
	NodeBloom          = 4
	NodeWitness        = 8
	NodeCompactFilters = 64
	NodeNetworkLimited = 1024
	NodeP2PV2          = 2048
)

var serviceNames = map[uint64]string{
	NodeNetwork: "NODE_NETWORK", NodeGetUTXO: "NODE_GETUTXO", NodeBloom: "NODE_BLOOM", NodeWitness: "NODE_WITNESS",
	NodeCompactFilters: "NODE_COMPACT_FILTERS", NodeNetworkLimited: "NODE_NETWORK_LIMITED", NodeP2PV2: "NODE_P2P_V2",
}

// KnownServices lists the flags reports show, in bit order.
var KnownServices = []uint64{NodeNetwork, NodeGetUTXO, NodeBloom, NodeWitness, NodeCompactFilters, NodeNetworkLimited, NodeP2PV2}

// ServiceName names one flag ("NODE_WITNESS", or "BIT_n" for unknown bits).
func ServiceName(flag uint64) string {
	if n, ok := serviceNames[flag]; ok {
		return n
	}
	return fmt.Sprintf("BIT_%d", bits.TrailingZeros64(flag))
}

// ServiceNames decodes a services field into flag names, lowest bit first.
func ServiceNames(s uint64) []string {
	out := []string{}
	for s != 0 {
		f := s & -s
		out = append(out, ServiceName(f))
		s &^= f
	}
	return out
}

// TipHeight is the chain tip the crawl saw: the most common start height
// among reachable nodes (the higher one on a tie), 0 without any. Not the
// maximum: one node lying about its height would move the maximum, and a
// crawl lasts minutes, so honest nodes at the tip agree on a height.
func TipHeight(heights []int32) int32 {
	if len(heights) == 0 {
		return 0
	}
	counts := map[int32]int{}
	for _, h := range heights {
		counts[h]++
	}
	best, bestN := int32(0), 0
	for h, n := range counts {
		if n > bestN || (n == bestN && h > best) {
			best, bestN = h, n
		}
	}
	return best
}

// LastActivity is the latest end of any attempt among nodes, for a crawl
// that has no end time yet.
func LastActivity(ns []*Node) time.Time {
	var t time.Time
	for _, n := range ns {
		if n.Attempt.End.After(t) {
			t = n.Attempt.End
		}
	}
	return t
}

// SortByAddr sorts nodes by their canonical string form.
func SortByAddr(ns []*Node) {
	sort.Slice(ns, func(i, j int) bool { return ns[i].Addr.String() < ns[j].Addr.String() })
}
