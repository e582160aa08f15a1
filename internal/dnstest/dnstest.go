// Package dnstest starts a DNS server on loopback for tests (miekg/dns):
// bootstrap from DNS seeds and reverse lookups are tested against it, never
// against real resolvers. It holds no test logic of its own.
package dnstest

import (
	"net"
	"testing"

	"github.com/miekg/dns"
)

// Serve answers UDP queries on 127.0.0.1 with h until the test ends and
// returns the server's address (IP:PORT).
func Serve(t testing.TB, h dns.Handler) string {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &dns.Server{PacketConn: pc, Handler: h}
	started := make(chan struct{})
	srv.NotifyStartedFunc = func() { close(started) }
	go func() { _ = srv.ActivateAndServe() }()
	<-started
	t.Cleanup(func() { _ = srv.Shutdown() })
	return pc.LocalAddr().String()
}
