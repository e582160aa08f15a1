package store

import (
	"net/netip"
	"testing"

	"github.com/nodesweep/nodesweep/codec"
)

func TestWatchTable(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, WithoutReadSocket())
	if err != nil {
		t.Fatal(err)
	}
	a := codec.AddrFromAddrPort(netip.MustParseAddrPort("1.2.3.4:8333"))
	b := codec.AddrFromAddrPort(netip.MustParseAddrPort("[2001:db8::1]:8333"))
	if err := s.SaveWatch([]WatchEntry{{a, []byte("one")}, {b, []byte("two")}}); err != nil {
		t.Fatal(err)
	}
	if err := s.SaveWatch([]WatchEntry{{a, []byte("three")}, {Addr: b}}); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = Open(dir, WithoutReadSocket())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	got := map[codec.Addr]string{}
	if err := s.EachWatch(func(x codec.Addr, v []byte) error { got[x] = string(v); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[a] != "three" {
		t.Fatalf("watch table after replace and delete: %v", got)
	}
	// The watch table is not a crawl: the crawl list stays empty.
	if cs, err := s.Crawls(); err != nil || len(cs) != 0 {
		t.Fatalf("crawls %v, %v", cs, err)
	}
}
