package report

import (
	"bytes"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/nodesweep/nodesweep/codec"
	"github.com/nodesweep/nodesweep/internal/record"
	"github.com/nodesweep/nodesweep/store"
	"github.com/nodesweep/nodesweep/store/storetest"
)

// crawlFixture writes a synthetic crawl and returns the attempts that count
// per address (first handshake, else last).
func crawlFixture(t testing.TB, st *store.Store, seed uint64, n int, edit func(*record.Attempt)) (store.CrawlInfo, map[codec.Addr]*record.Attempt) {
	t.Helper()
	start := time.Unix(1_763_000_000+int64(seed)*3600, 0).UTC()
	id, err := st.NewCrawl(record.CrawlMeta{Network: "signet", Start: start})
	if err != nil {
		t.Fatal(err)
	}
	w, err := st.NewWriter()
	if err != nil {
		t.Fatal(err)
	}
	g := storetest.New(seed, id)
	g.ReachableRate = 0.35
	counts := map[codec.Addr]*record.Attempt{}
	learned := []codec.Addr{}
	for i := 0; i < n; i++ {
		a := g.Attempt(codec.Addr{}, 0)
		if edit != nil {
			edit(a)
			storetest.Reencode(a.Version)
		}
		learned = append(learned, a.Addr, g.Addr()) // one never dialled per dialled
		if err := w.Record(a); err != nil {
			t.Fatal(err)
		}
		counts[a.Addr] = a
		if a.Class.Transient() && i%2 == 0 {
			b := g.Attempt(a.Addr, 1)
			if err := w.Record(b); err != nil {
				t.Fatal(err)
			}
			counts[a.Addr] = b
		}
	}
	if err := w.Seen(id, codec.Addr{}, learned); err != nil {
		t.Fatal(err)
	}
	if err := w.FinishCrawl(id, start.Add(7*time.Minute)); err != nil {
		t.Fatal(err)
	}
	check(t, w.Close())
	info, err := st.Crawl(id)
	check(t, err)
	return info, counts
}

func check(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestComputeMatchesRecords(t *testing.T) {
	st, err := store.Open(t.TempDir())
	check(t, err)
	defer st.Close()
	info, want := crawlFixture(t, st, 1, 600, nil)
	s, err := Compute(st, info)
	check(t, err)

	reach, uas, protos, fails := 0, map[string]int{}, map[string]int{}, map[string]int{}
	nets := map[codec.Network][3]int{}
	var connect []time.Duration
	heights := map[int32]int{}
	services := map[string]int{}
	for _, a := range want {
		c := nets[a.Addr.Network()]
		c[1]++
		if !a.Class.Reachable() {
			fails[a.Class.String()]++
			nets[a.Addr.Network()] = c
			continue
		}
		c[2]++
		nets[a.Addr.Network()] = c
		reach++
		uas[a.Version.Msg.UserAgent]++
		protos[fmt.Sprint(a.Version.Msg.Protocol)]++
		heights[a.Version.Msg.StartHeight]++
		connect = append(connect, a.ConnectRTT)
		for _, f := range []struct {
			bit  uint64
			name string
		}{{1, "NODE_NETWORK"}, {8, "NODE_WITNESS"}, {1024, "NODE_NETWORK_LIMITED"}, {2048, "NODE_P2P_V2"}} {
			if a.Version.Msg.Services&f.bit != 0 {
				services[f.name]++
			}
		}
	}
	if s.Reachable != reach || s.Dialled != len(want) || s.Learned != 2*600 || s.Attempts != int(info.Attempts) {
		t.Errorf("funnel %d/%d/%d, want learned %d dialled %d reachable %d", s.Learned, s.Dialled, s.Reachable, 1200, len(want), reach)
	}
	for _, n := range s.Networks {
		if w := nets[n.Network]; n.Dialled != w[1] || n.Reachable != w[2] {
			t.Errorf("%s: dialled %d reachable %d, want %v", n.Network, n.Dialled, n.Reachable, w)
		}
	}
	eq := func(name string, got []Count, want map[string]int) {
		t.Helper()
		m := map[string]int{}
		for _, c := range got {
			if c.N > 0 {
				m[c.Label] = c.N
			}
		}
		if fmt.Sprint(m) != fmt.Sprint(want) {
			t.Errorf("%s = %v, want %v", name, m, want)
		}
	}
	eq("user agents", s.UserAgents, uas)
	eq("protocols", s.Protocols, protos)
	eq("failures", s.Failures, fails)
	eq("services", s.Services, services)
	tip, tipN := int32(0), 0
	for h, n := range heights {
		if n > tipN || n == tipN && h > tip {
			tip, tipN = h, n
		}
	}
	behind := 0
	for h, n := range heights {
		if h < tip {
			behind += n
		}
	}
	if s.Tip != tip || s.Behind != behind {
		t.Errorf("tip %d behind %d, want %d %d", s.Tip, s.Behind, tip, behind)
	}
	sort.Slice(connect, func(i, j int) bool { return connect[i] < connect[j] })
	if s.Connect.P50 != connect[(len(connect)+1)/2-1] || s.Connect.Max != connect[len(connect)-1] {
		t.Errorf("connect p50 %v max %v", s.Connect.P50, s.Connect.Max)
	}

	var buf bytes.Buffer
	check(t, Text(&buf, s))
	out := buf.String()
	for _, want := range []string{fmt.Sprintf("REACHABLE NODES: %d", reach), "/Satoshi:27.0.0/", "NODE_WITNESS", "connect-timeout",
		fmt.Sprintf("tip (most common height)  %d", tip), "ipv4", "onion", "p50"} {
		if !strings.Contains(out, want) {
			t.Errorf("terminal report lacks %q:\n%s", want, out)
		}
	}
}

func TestDiff(t *testing.T) {
	st, err := store.Open(t.TempDir())
	check(t, err)
	defer st.Close()
	a, wa := crawlFixture(t, st, 5, 300, nil)
	// B: same addresses (same seed), every 5th reachable node gone, user
	// agents of every 7th changed, heights moved by one block.
	i := 0
	b, wb := crawlFixture(t, st, 5, 300, func(at *record.Attempt) {
		i++
		if at.Version == nil {
			return
		}
		if i%5 == 0 {
			at.Class, at.Version = record.ClassRefused, nil
			return
		}
		if i%7 == 0 {
			at.Version.Msg.UserAgent = "/Satoshi:30.0.0/"
		}
		at.Version.Msg.StartHeight++
	})
	d, err := Diff(st, a, b)
	check(t, err)
	gone, up, moved := 0, 0, 0
	for addr, x := range wa {
		y := wb[addr]
		if !x.Class.Reachable() {
			continue
		}
		if y == nil || !y.Class.Reachable() {
			gone++
			continue
		}
		if x.Version.Msg.UserAgent != y.Version.Msg.UserAgent {
			up++
		}
		if x.Version.Msg.StartHeight != y.Version.Msg.StartHeight {
			moved++
		}
	}
	if len(d.Disappeared) != gone || len(d.Upgraded) != up || len(d.HeightChanged) != moved || len(d.Appeared) != 0 || gone == 0 || up == 0 {
		t.Errorf("diff: -%d ~%d ^%d +%d; want -%d ~%d ^%d +0", len(d.Disappeared), len(d.Upgraded), len(d.HeightChanged), len(d.Appeared), gone, up, moved)
	}
	// Reversed, the gone ones appear.
	r, err := Diff(st, b, a)
	check(t, err)
	if len(r.Appeared) != gone {
		t.Errorf("reverse diff: %d appeared, want %d", len(r.Appeared), gone)
	}
	var buf bytes.Buffer
	check(t, d.WriteText(&buf, 3))
	if !strings.Contains(buf.String(), "/Satoshi:30.0.0/") || !strings.Contains(buf.String(), "more") {
		t.Errorf("diff text:\n%s", buf.String())
	}
}
