package frontier

import (
	"net/netip"
	"testing"
	"time"

	"github.com/nodesweep/nodesweep/codec"
	"github.com/nodesweep/nodesweep/internal/record"
)

var t0 = time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)

const onionV3 = "2gzyxa5ihm7nsggfxnu52rck2vv4rvmdlkiu3zzui5du4xyclen53wid.onion:8333"

func TestPolicy(t *testing.T) {
	sim := netip.MustParsePrefix("127.16.0.0/12")
	open := Policy{Allow: []netip.Prefix{sim}}
	tor := Policy{Tor: true}
	doc48 := Policy{Allow: []netip.Prefix{netip.MustParsePrefix("2001:db8::/48")}, CJDNS: true}
	cases := []struct {
		addr string
		p    Policy
		want Verdict
	}{
		{"8.8.8.8:8333", Policy{}, Dial},
		{"[2a01:4f8::1]:8333", Policy{}, Dial},
		{"10.1.2.3:8333", Policy{}, SkipClass},
		{"192.168.1.1:8333", open, SkipClass},
		{"127.0.0.1:8333", open, SkipClass},
		{"127.16.0.9:8333", open, Dial},
		{"127.32.0.1:8333", open, SkipClass}, // loopback outside the allowed range
		{"169.254.1.1:8333", Policy{}, SkipClass},
		{"[fe80::1]:8333", Policy{}, SkipClass},
		{"[2002:a00:1::1]:8333", Policy{}, SkipClass}, // 6to4 of 10.0.0.1
		{"8.8.8.8:0", Policy{}, SkipPort},
		{onionV3, Policy{}, SkipNetwork},
		{onionV3, tor, Dial},
		{"[fc00::1]:8333", Policy{}, SkipNetwork},
		{"[fc00::1]:8333", Policy{CJDNS: true}, Dial},
		// IPv6 as the namespace test crawls it: the documentation prefix
		// only where allowed, ULA outside fc00::/8 never, even with CJDNS.
		{"[2001:db8::5]:8333", Policy{}, SkipClass},
		{"[2001:db8::5]:8333", doc48, Dial},
		{"[2001:db8:1::5]:8333", doc48, SkipClass},
		{"[fd00::1]:8333", Policy{CJDNS: true}, SkipClass},
	}
	for _, c := range cases {
		if got := c.p.Check(codec.MustParseAddr(c.addr)); got != c.want {
			t.Errorf("%s: %v, want %v", c.addr, got, c.want)
		}
	}
}

func TestDedupQueueAndCounts(t *testing.T) {
	f := New(Policy{})
	a, b := codec.MustParseAddr("8.8.8.8:8333"), codec.MustParseAddr("9.9.9.9:8333")
	if !f.Add(a) || f.Add(a) || !f.Add(b) || !f.Add(codec.MustParseAddr("10.0.0.1:8333")) {
		t.Fatal("dedup")
	}
	got, _, ok := f.Next(t0)
	if !ok || got != a {
		t.Fatalf("FIFO: got %v", got)
	}
	if s := f.Stats(); s.Known != 3 || s.Skipped != 1 || s.InFlight != 1 || s.Queued != 1 {
		t.Fatalf("stats %+v", s)
	}
	f.Done(a, record.ClassReachable, t0)
	if f.Add(a) {
		t.Fatal("a finished address was queued again")
	}
}

func TestRetriesBackOffExponentially(t *testing.T) {
	f := New(Policy{}, WithRetries(2, time.Second))
	a := codec.MustParseAddr("8.8.8.8:8333")
	f.Add(a)
	f.Next(t0)
	if !f.Done(a, record.ClassConnectTimeout, t0) {
		t.Fatal("transient failure not retried")
	}
	if _, _, ok := f.Next(t0.Add(999 * time.Millisecond)); ok {
		t.Fatal("retry handed out early")
	}
	got, try, ok := f.Next(t0.Add(time.Second))
	if !ok || got != a || try != 1 {
		t.Fatalf("retry 1: %v try %d ok %v", got, try, ok)
	}
	f.Done(a, record.ClassReset, t0.Add(time.Second))
	if r := f.NextRetry(); !r.Equal(t0.Add(3 * time.Second)) {
		t.Fatalf("second delay: due %v", r)
	}
	_, try, _ = f.Next(t0.Add(3 * time.Second))
	if try != 2 || f.Done(a, record.ClassConnectTimeout, t0) {
		t.Fatalf("retried beyond the limit (try %d)", try)
	}
	b := codec.MustParseAddr("9.9.9.9:8333")
	f.Add(b)
	f.Next(t0)
	if f.Done(b, record.ClassRefused, t0) {
		t.Fatal("a refusal was retried")
	}
}

func TestCapDropsAndMarkDone(t *testing.T) {
	f := New(Policy{}, WithMaxAddrs(2))
	f.Add(codec.MustParseAddr("1.1.1.1:1"))
	f.MarkDone(codec.MustParseAddr("1.1.1.1:1"))
	f.Add(codec.MustParseAddr("2.2.2.2:2"))
	if f.Add(codec.MustParseAddr("3.3.3.3:3")) || f.Stats().Dropped != 1 {
		t.Fatal("cap not enforced")
	}
	a, _, ok := f.Next(t0)
	if !ok || a != codec.MustParseAddr("2.2.2.2:2") {
		t.Fatalf("marked-done address handed out: %v", a)
	}
	if _, _, ok := f.Next(t0); ok || f.Queued() != 0 {
		t.Fatal("queue not empty")
	}
}

func TestLocalErrorsAreNotChargedToThePeer(t *testing.T) {
	f := New(Policy{}, WithRetries(1, time.Second))
	a := codec.MustParseAddr("8.8.8.8:8333")
	f.Add(a)
	now := t0
	for i := 0; i < 5; i++ {
		_, try, ok := f.Next(now)
		if !ok || int(try) != i {
			t.Fatalf("attempt %d: try %d ok %v", i, try, ok)
		}
		if !f.Done(a, record.ClassLocalError, now) {
			t.Fatalf("local error %d not rescheduled", i)
		}
		now = now.Add(time.Second)
	}
	_, try, _ := f.Next(now)
	if !f.Done(a, record.ClassConnectTimeout, now) || try != 5 {
		t.Fatal("the peer's own retry was used up by local errors")
	}
	_, _, _ = f.Next(now.Add(time.Hour))
	if f.Done(a, record.ClassConnectTimeout, now) {
		t.Fatal("retried beyond the peer's budget")
	}
}

func TestContinueTries(t *testing.T) {
	f := New(Policy{})
	a := codec.MustParseAddr("8.8.8.8:8333")
	f.Add(a)
	f.ContinueTries(a, 3)
	if _, try, ok := f.Next(t0); !ok || try != 3 {
		t.Fatalf("try %d ok %v, want 3", try, ok)
	}
}
