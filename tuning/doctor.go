package tuning

import (
	"fmt"
	"strings"
)

// Status grades one Check against a sweep size.
type Status string

// Statuses, from good to bad. Only StatusFail makes a Report fail.
const (
	StatusOK      Status = "ok"      // meets what the sweep needs
	StatusInfo    Status = "info"    // shown for context; nothing to meet
	StatusNA      Status = "n/a"     // does not apply (e.g. conntrack not loaded)
	StatusUnknown Status = "unknown" // could not be read
	StatusWarn    Status = "warn"    // below the recommendation; the sweep still runs
	StatusFail    Status = "fail"    // the sweep would hit this limit
)

// Sizing constants used by Diagnose. They are estimates, stated so they can be
// checked against bench/ numbers.
const (
	// PerConnMemory is the memory budgeted per connection in flight: ~17 KiB
	// measured for a goroutine-per-connection client on this machine, plus
	// the kernel socket and data in its buffers. The gnet reactor needs far
	// less (~0.7 KiB of Go heap per idle connection); 32 KiB is conservative.
	PerConnMemory = 32 << 10
	// PerAddressMemory is budgeted per candidate address (frontier dedup and
	// queue; the records themselves go to Badger on disk).
	PerAddressMemory = 512
	// RecommendedNoFile is the round RLIMIT_NOFILE the fixes ask for (the
	// default fs.nr_open), unless a sweep needs more.
	RecommendedNoFile = 1 << 20
	// RecommendedPorts is the size of ip_local_port_range "10000 65535".
	RecommendedPorts = 65535 - 10000 + 1
	// RecommendedBacklog is the most net.core.netdev_max_backlog the
	// doctor asks for (sysctl.conf's value): a burst of one packet per
	// connection, up to a full sweep's third.
	RecommendedBacklog = 32768
)

// Check is one line of the doctor's table. Need values are in the unit of
// Current; Op says how Current must compare to them (">=", "<=", "==", or ""
// for info rows). Need values are Unknown when nothing is required.
type Check struct {
	Key         string `json:"key"`
	Current     int64  `json:"current"`
	CurrentText string `json:"current_text"`
	Op          string `json:"op"`
	Unit        string `json:"unit,omitempty"` // "bytes", or empty for counts
	NeedFull    int64  `json:"need_full_sweep"`
	NeedReq     int64  `json:"need_requested"`
	StatusFull  Status `json:"status_full_sweep"`
	Status      Status `json:"status"` // for the requested size
	Fix         string `json:"fix,omitempty"`
	Why         string `json:"why"`
}

// Report is the doctor's verdict for a sweep of MaxConns connections in flight
// over Addresses candidate addresses (0: unknown), next to a full sweep of
// FullSweepConns.
type Report struct {
	MaxConns       int      `json:"max_conns"`
	MaxConnsNote   string   `json:"max_conns_note,omitempty"`
	Addresses      int      `json:"addresses"`
	FullSweepConns int      `json:"full_sweep_conns"`
	Checks         []Check  `json:"checks"`
	OK             bool     `json:"ok"`       // no check fails for MaxConns
	FullOK         bool     `json:"full_ok"`  // no check fails for a full sweep
	Verdict        string   `json:"verdict"`  // one line
	Snapshot       Snapshot `json:"snapshot"` // what the checks were computed from
}

// Diagnose grades snapshot s for a sweep of maxConns connections in flight
// (<= 0: the default nodesweep would pick, ConnsFor(hard limit) capped at
// FullSweepConns) over addresses candidates (<= 0: unknown). It is pure.
func Diagnose(s Snapshot, maxConns, addresses int) Report {
	r := Report{Addresses: max(addresses, 0), FullSweepConns: FullSweepConns, Snapshot: s}
	if maxConns <= 0 {
		maxConns = min(ConnsFor(s.NoFileHard), FullSweepConns)
		r.MaxConnsNote = fmt.Sprintf("the default on this host: RLIMIT_NOFILE hard %d minus %d reserved", s.NoFileHard, Reserve(s.NoFileHard))
	}
	r.MaxConns = maxConns
	conns := func(n int) int { // connections really in flight
		if addresses > 0 && addresses < n {
			return addresses
		}
		return n
	}
	full, req := conns(FullSweepConns), conns(maxConns)
	for _, rl := range rules(s, addresses) {
		c := Check{Key: rl.key, Current: rl.cur, CurrentText: rl.text, Op: rl.op, Unit: rl.unit, Why: rl.why,
			NeedFull: Unknown, NeedReq: Unknown}
		if c.CurrentText == "" {
			c.CurrentText = fmtVal(rl.cur)
		}
		if rl.need != nil {
			c.NeedFull, c.NeedReq = rl.need(full), rl.need(req)
		}
		c.StatusFull, c.Status = rl.grade(c.Current, c.NeedFull), rl.grade(c.Current, c.NeedReq)
		if short(c.StatusFull) || short(c.Status) {
			target := c.NeedReq
			if short(c.StatusFull) && (c.Op == "<=") == (c.NeedFull < target) {
				target = c.NeedFull
			}
			if rl.fix != nil {
				c.Fix = rl.fix(target)
			}
		}
		r.Checks = append(r.Checks, c)
	}
	r.OK, r.FullOK = true, true
	var fails, fullFails []string
	warns := 0
	for _, c := range r.Checks {
		if c.Status == StatusFail {
			r.OK = false
			fails = append(fails, c.Key)
		}
		if c.StatusFull == StatusFail {
			r.FullOK = false
			fullFails = append(fullFails, c.Key)
		}
		if c.Status == StatusWarn {
			warns++
		}
	}
	if r.OK {
		r.Verdict = fmt.Sprintf("OK: a sweep with --max-conns %d fits this host's limits", maxConns)
		if warns > 0 {
			r.Verdict += fmt.Sprintf(" (%d setting(s) below the recommendation)", warns)
		}
	} else {
		r.Verdict = fmt.Sprintf("FAIL: a sweep with --max-conns %d would hit: %s", maxConns, strings.Join(fails, ", "))
	}
	if !r.FullOK {
		r.Verdict += fmt.Sprintf("; a full %d-connection sweep would hit: %s", FullSweepConns, strings.Join(fullFails, ", "))
	}
	return r
}

func short(s Status) bool { return s == StatusWarn || s == StatusFail }

// rule describes how to grade one value.
type rule struct {
	key, op, why string
	unit         string
	cur          int64
	text         string                // display of cur, if not just the number
	sev          Status                // what a shortfall is: StatusWarn or StatusFail
	need         func(conns int) int64 // nil: an info row
	fix          func(target int64) string
	gradeFn      func(cur, need int64) Status // overrides the generic comparison
}

func (rl rule) grade(cur, need int64) Status {
	if rl.gradeFn != nil {
		return rl.gradeFn(cur, need)
	}
	if rl.need == nil {
		return StatusInfo
	}
	if cur == Unknown {
		return StatusUnknown
	}
	ok := false
	switch rl.op {
	case ">=":
		ok = cur >= need
	case "<=":
		ok = cur <= need
	case "==":
		ok = cur == need
	}
	if ok {
		return StatusOK
	}
	return rl.sev
}
