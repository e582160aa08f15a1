package report

import (
	"fmt"
	"io"

	"github.com/nodesweep/nodesweep/codec"
	"github.com/nodesweep/nodesweep/internal/nodes"
	"github.com/nodesweep/nodesweep/store"
)

// Change is one node reachable in both crawls whose version changed.
type Change struct {
	Addr          codec.Addr
	Before, After *nodes.Node
}

// DiffResult is the churn between crawls A and B (reachable nodes only).
type DiffResult struct {
	A, B          store.CrawlInfo
	Appeared      []*nodes.Node // reachable in B, not in A
	Disappeared   []*nodes.Node // reachable in A, not in B
	Upgraded      []Change      // user agent or protocol version changed
	HeightChanged []Change      // start height changed
	Stayed        int           // reachable in both
}

// Diff compares the reachable nodes of two crawls. Lists are sorted by
// canonical address.
func Diff(src store.Reader, a, b store.CrawlInfo) (*DiffResult, error) {
	na, err := nodes.Reachable(src, a.ID)
	if err != nil {
		return nil, err
	}
	nb, err := nodes.Reachable(src, b.ID)
	if err == nil {
		err = store.StillStored(src, a.ID, b.ID) // neither pruned meanwhile
	}
	if err != nil {
		return nil, err
	}
	d := &DiffResult{A: a, B: b}
	before := make(map[codec.Addr]*nodes.Node, len(na))
	for _, n := range na {
		before[n.Addr] = n
	}
	nodes.SortByAddr(nb)
	for _, n := range nb {
		o, ok := before[n.Addr]
		if !ok {
			d.Appeared = append(d.Appeared, n)
			continue
		}
		delete(before, n.Addr)
		d.Stayed++
		vo, vn := o.Version(), n.Version()
		if vo == nil || vn == nil {
			continue
		}
		if vo.Msg.UserAgent != vn.Msg.UserAgent || vo.Msg.Protocol != vn.Msg.Protocol {
			d.Upgraded = append(d.Upgraded, Change{n.Addr, o, n})
		}
		if vo.Msg.StartHeight != vn.Msg.StartHeight || vo.Msg.HasStartHeight != vn.Msg.HasStartHeight {
			d.HeightChanged = append(d.HeightChanged, Change{n.Addr, o, n})
		}
	}
	for _, n := range before {
		d.Disappeared = append(d.Disappeared, n)
	}
	nodes.SortByAddr(d.Disappeared)
	return d, nil
}

func ua(n *nodes.Node) string {
	if v := n.Version(); v != nil {
		return fmt.Sprintf("%d %s", v.Msg.Protocol, printable(v.Msg.UserAgent))
	}
	return "(no version)"
}

func height(n *nodes.Node) string {
	if v := n.Version(); v != nil && v.Msg.HasStartHeight {
		return fmt.Sprint(v.Msg.StartHeight)
	}
	return "-"
}

// WriteText prints the diff; each list shows at most limit lines (0: all).
func (d *DiffResult) WriteText(w io.Writer, limit int) error {
	p := func(format string, a ...any) { fmt.Fprintf(w, format, a...) }
	p("crawl %d (%d reachable) → crawl %d (%d reachable)\n", d.A.ID, d.A.Reachable, d.B.ID, d.B.Reachable)
	p("  stayed %d, appeared %d, disappeared %d, upgraded %d, height changed %d\n",
		d.Stayed, len(d.Appeared), len(d.Disappeared), len(d.Upgraded), len(d.HeightChanged))
	list := func(title string, n int, line func(i int)) {
		p("\n%s (%d)\n", title, n)
		for i := 0; i < n; i++ {
			if limit > 0 && i == limit {
				p("  … %d more\n", n-limit)
				break
			}
			line(i)
		}
	}
	list("appeared", len(d.Appeared), func(i int) { p("  + %s  %s\n", d.Appeared[i].Addr, ua(d.Appeared[i])) })
	list("disappeared", len(d.Disappeared), func(i int) { p("  - %s  %s\n", d.Disappeared[i].Addr, ua(d.Disappeared[i])) })
	list("upgraded", len(d.Upgraded), func(i int) {
		c := d.Upgraded[i]
		p("  ~ %s  %s → %s\n", c.Addr, ua(c.Before), ua(c.After))
	})
	list("height changed", len(d.HeightChanged), func(i int) {
		c := d.HeightChanged[i]
		p("  ^ %s  %s → %s\n", c.Addr, height(c.Before), height(c.After))
	})
	return nil
}
