package report

import (
	"bytes"
	"strings"
	"testing"

	"github.com/nodesweep/nodesweep/codec"
	"github.com/nodesweep/nodesweep/internal/record"
	"github.com/nodesweep/nodesweep/store"
)

// TestV2AdvertisedAndMeasured: the v2 counts per network and per user agent
// are the records' (services bit and transport), recounted here.
func TestV2AdvertisedAndMeasured(t *testing.T) {
	st, err := store.Open(t.TempDir())
	check(t, err)
	defer st.Close()
	i := 0
	info, want := crawlFixture(t, st, 5, 600, func(a *record.Attempt) {
		i++
		if a.Version == nil {
			return
		}
		a.Transport = record.TransportV1
		if i%3 != 0 {
			a.Version.Msg.Services |= nodeP2PV2
			if i%7 != 0 {
				a.Transport = record.TransportV2
			} else {
				a.V2Failure = record.V2BadTag
			}
		}
	})
	s, err := Compute(st, info)
	check(t, err)
	type cnt struct{ reach, adv, meas, advFailed int }
	byNet, byUA := map[string]*cnt{}, map[string]*cnt{}
	failures := 0
	for _, a := range want {
		if !a.Class.Reachable() {
			continue
		}
		adv := a.Version != nil && a.Version.Msg.Services&nodeP2PV2 != 0
		meas := a.Transport == record.TransportV2
		ua := "(no version)"
		if a.Version != nil {
			ua = a.Version.Msg.UserAgent
		}
		for _, km := range []struct {
			k string
			m map[string]*cnt
		}{{a.Addr.Network().String(), byNet}, {ua, byUA}} {
			k, m := km.k, km.m
			c := m[k]
			if c == nil {
				c = &cnt{}
				m[k] = c
			}
			c.reach++
			if adv {
				c.adv++
			}
			if meas {
				c.meas++
			}
			if adv && !meas {
				c.advFailed++
			}
		}
		if a.V2Failure != record.V2OK {
			failures++
		}
	}
	if len(s.V2Networks) == 0 || len(s.V2Agents) == 0 {
		t.Fatal("no v2 rows")
	}
	for _, rows := range []struct {
		got  []V2Count
		want map[string]*cnt
	}{{s.V2Networks, byNet}, {s.V2Agents, byUA}} {
		for _, g := range rows.got {
			w := rows.want[g.Label]
			if w == nil || g.Reachable != w.reach || g.Advertised != w.adv || g.Measured != w.meas || g.AdvertisedFailed != w.advFailed {
				t.Errorf("%s: got %+v, want %+v", g.Label, g, w)
			}
		}
	}
	if failures == 0 || len(s.V2Failures) != 1 || s.V2Failures[0].Label != "bad-tag" || s.V2Failures[0].N != failures {
		t.Errorf("failures %+v, want bad-tag %d", s.V2Failures, failures)
	}
	var txt bytes.Buffer
	check(t, Text(&txt, s))
	if !strings.Contains(txt.String(), "BIP324 v2 by network") || !strings.Contains(txt.String(), codec.NetIPv4.String()) {
		t.Errorf("text report without the v2 section:\n%s", txt.String())
	}
	var html bytes.Buffer
	check(t, HTML(&html, s))
	if !strings.Contains(html.String(), "v2 measured") {
		t.Error("html report without the v2 charts")
	}
}
