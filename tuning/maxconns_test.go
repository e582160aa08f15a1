package tuning

import (
	"strings"
	"testing"
)

func TestReserve(t *testing.T) {
	for _, c := range []struct{ nofile, want uint64 }{
		{0, 64}, {256, 64}, {1280, 64}, {1300, 65}, {20000, 1000}, {1 << 20, 52428},
	} {
		if got := Reserve(c.nofile); got != c.want {
			t.Errorf("Reserve(%d) = %d, want %d", c.nofile, got, c.want)
		}
	}
	if got := ConnsFor(256); got != 192 {
		t.Errorf("ConnsFor(256) = %d, want 192", got)
	}
	if got := ConnsFor(10); got != 1 {
		t.Errorf("ConnsFor(10) = %d, want 1", got)
	}
}

// NoFileFor must be the exact inverse of ConnsFor: the smallest limit that fits.
func TestNoFileForIsSmallestInverse(t *testing.T) {
	check := func(c int) {
		n := NoFileFor(c)
		if ConnsFor(n) < c {
			t.Fatalf("ConnsFor(NoFileFor(%d)=%d) = %d < %d", c, n, ConnsFor(n), c)
		}
		if n > 1 && c > 1 && ConnsFor(n-1) >= c {
			t.Fatalf("NoFileFor(%d) = %d is not the smallest: ConnsFor(%d) = %d", c, n, n-1, ConnsFor(n-1))
		}
	}
	for c := 1; c < 5000; c++ {
		check(c)
	}
	for _, c := range []int{19000, 50000, FullSweepConns, 1 << 20, 3_000_000} {
		check(c)
	}
}

func TestClampConns(t *testing.T) {
	// Default: what the limit allows, capped at a full sweep.
	if got, note := ClampConns(20000, 28232, 0); got != 19000 || note != "" {
		t.Errorf("default on 20000 = %d %q, want 19000 and no note", got, note)
	}
	if got, note := ClampConns(1<<20, 28232, 0); got != FullSweepConns || note != "" {
		t.Errorf("default on 1<<20 = %d %q, want the cap %d and no note (our own default)", got, note, FullSweepConns)
	}
	// A request that fits is kept.
	if got, note := ClampConns(20000, 28232, 5000); got != 5000 || note != "" {
		t.Errorf("5000 on 20000 = %d %q", got, note)
	}
	// A request above the limit is clamped with one line naming the numbers and the fix.
	got, note := ClampConns(20000, 28232, 50000)
	if got != 19000 {
		t.Errorf("50000 on 20000 = %d, want 19000", got)
	}
	for _, want := range []string{"--max-conns 50000", "20000", "1000 reserved", "using 19000", "raise-limits.sh --nofile 52631"} {
		if !strings.Contains(note, want) {
			t.Errorf("note %q lacks %q", note, want)
		}
	}
	if strings.Contains(note, "\n") {
		t.Errorf("note is not one line: %q", note)
	}
	// More connections than ephemeral ports: a note, no clamp.
	got, note = ClampConns(1<<20, 28232, 60000)
	if got != 60000 || !strings.Contains(note, "ip_local_port_range has 28232 ports") {
		t.Errorf("60000 with 28232 ports = %d %q", got, note)
	}
}

func TestMaxConnsLive(t *testing.T) {
	lim, err := GetNoFile()
	if err != nil {
		t.Fatal(err)
	}
	got, note := MaxConns(0)
	if want := min(ConnsFor(lim.Soft), FullSweepConns); got != want {
		t.Errorf("MaxConns(0) = %d (%q), want %d for soft limit %d", got, note, want, lim.Soft)
	}
	huge := ConnsFor(lim.Soft) + 1
	if got, note := MaxConns(huge); got != ConnsFor(lim.Soft) || note == "" {
		t.Errorf("MaxConns(%d) = %d %q, want a clamp with a note", huge, got, note)
	}
}
