package dnsseed

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/miekg/dns"

	"github.com/nodesweep/nodesweep/internal/census"
)

// ServeDNS implements dns.Handler.
func (s *Seeder) ServeDNS(w dns.ResponseWriter, req *dns.Msg) {
	s.Queries.Add(1)
	if !s.lim.allow(w.RemoteAddr()) {
		s.Dropped.Add(1) // no answer at all: nothing to amplify
		return
	}
	m := s.answer(req, w.RemoteAddr().Network() == "tcp")
	if m.Truncated {
		s.Truncated.Add(1)
	}
	_ = w.WriteMsg(m)
}

// answer builds the reply to req (exported through ServeDNS; separate so
// that it can be measured without sockets).
func (s *Seeder) answer(req *dns.Msg, tcp bool) *dns.Msg {
	m := new(dns.Msg)
	if len(req.Question) != 1 {
		m.SetRcode(req, dns.RcodeFormatError)
		return m
	}
	m.SetReply(req)
	m.Authoritative = true
	m.RecursionAvailable = false
	if req.Opcode != dns.OpcodeQuery {
		m.SetRcode(req, dns.RcodeNotImplemented)
		return m
	}
	q := req.Question[0]
	name := strings.ToLower(q.Name)
	if q.Qclass != dns.ClassINET || !dns.IsSubDomain(s.zone, name) {
		m.Authoritative = false
		m.SetRcode(req, dns.RcodeRefused)
		return m
	}
	c := s.cache.Load()
	flags, ok := uint64(0), name == s.zone
	if !ok {
		label := strings.TrimSuffix(name, "."+s.zone)
		flags, ok = s.filters[label]
	}
	size := dns.MinMsgSize
	if opt := req.IsEdns0(); opt != nil {
		size = min(max(int(opt.UDPSize()), dns.MinMsgSize), ednsMax)
		m.SetEdns0(uint16(size), false)
	}
	if tcp {
		size = dns.MaxMsgSize
	}
	switch {
	case !ok:
		m.SetRcode(req, dns.RcodeNameError)
		m.Ns = []dns.RR{s.soa(c)}
	case q.Qtype == dns.TypeA:
		for _, ip := range pick(c.v4[flags], s.cfg.Picks) {
			m.Answer = append(m.Answer, &dns.A{Hdr: s.hdr(q.Name, dns.TypeA), A: ip.AsSlice()})
		}
	case q.Qtype == dns.TypeAAAA:
		for _, ip := range pick(c.v6[flags], s.cfg.Picks) {
			m.Answer = append(m.Answer, &dns.AAAA{Hdr: s.hdr(q.Name, dns.TypeAAAA), AAAA: ip.AsSlice()})
		}
	case q.Qtype == dns.TypeSOA && name == s.zone:
		m.Answer = []dns.RR{s.soa(c)}
	case q.Qtype == dns.TypeNS && name == s.zone:
		m.Answer = []dns.RR{&dns.NS{Hdr: s.hdr(s.zone, dns.TypeNS), Ns: dns.Fqdn(s.cfg.NS)}}
	}
	if len(m.Answer) == 0 && m.Rcode == dns.RcodeSuccess {
		m.Ns = []dns.RR{s.soa(c)} // NODATA: the SOA gives the negative TTL
	}
	m.Truncate(size)
	return m
}

func (s *Seeder) hdr(name string, t uint16) dns.RR_Header {
	ttl := s.cfg.TTL
	if t == dns.TypeNS || t == dns.TypeSOA {
		ttl = 3600
	}
	return dns.RR_Header{Name: name, Rrtype: t, Class: dns.ClassINET, Ttl: ttl}
}

func (s *Seeder) soa(c *cache) dns.RR {
	return &dns.SOA{Hdr: s.hdr(s.zone, dns.TypeSOA), Ns: dns.Fqdn(s.cfg.NS), Mbox: mbox(s.cfg.Mbox),
		Serial: c.serial, Refresh: 604800, Retry: 86400, Expire: 2592000, Minttl: s.cfg.TTL}
}

// Server is a running seeder on UDP and TCP.
type Server struct {
	udp, tcp *dns.Server
	addr     string
	cancel   context.CancelFunc
	once     sync.Once
	err      error
}

// Listen serves s on addr, HOST:PORT (UDP and TCP, the same port), and
// rebuilds its cache every Refresh until Shutdown.
func (s *Seeder) Listen(addr string) (*Server, error) {
	pc, ln, err := listenBoth(addr)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	srv := &Server{addr: pc.LocalAddr().String(), cancel: cancel,
		udp: &dns.Server{PacketConn: pc, Handler: s},
		tcp: &dns.Server{Listener: ln, Handler: s, ReadTimeout: 2 * time.Second, WriteTimeout: 2 * time.Second,
			MaxTCPQueries: 16, IdleTimeout: func() time.Duration { return 5 * time.Second }}}
	started := make(chan struct{}, 2)
	srv.udp.NotifyStartedFunc = func() { started <- struct{}{} }
	srv.tcp.NotifyStartedFunc = func() { started <- struct{}{} }
	go func() { _ = srv.udp.ActivateAndServe() }()
	go func() { _ = srv.tcp.ActivateAndServe() }()
	<-started
	<-started
	go s.Run(ctx)
	return srv, nil
}

// listenBoth binds UDP and TCP on one port; with port 0, it tries again
// when the port the kernel gave UDP is taken for TCP.
func listenBoth(addr string) (net.PacketConn, net.Listener, error) {
	_, port, _ := net.SplitHostPort(addr)
	for try := 0; ; try++ {
		pc, err := net.ListenPacket("udp", addr)
		if err != nil {
			return nil, nil, fmt.Errorf("dnsseed: listen udp %q: %w", addr, err)
		}
		ln, err := net.Listen("tcp", pc.LocalAddr().String())
		if err == nil {
			return pc, ln, nil
		}
		pc.Close()
		if port != "0" || try == 10 {
			return nil, nil, fmt.Errorf("dnsseed: listen tcp %q: %w", addr, err)
		}
	}
}

// Addr is the bound address (UDP and TCP).
func (srv *Server) Addr() string { return srv.addr }

// Shutdown stops both listeners, waiting until ctx ends at most. Later
// calls return the first's result.
func (srv *Server) Shutdown(ctx context.Context) error {
	srv.once.Do(func() {
		srv.cancel()
		srv.err = errors.Join(srv.udp.ShutdownContext(ctx), srv.tcp.ShutdownContext(ctx))
	})
	return srv.err
}

// Dump writes every tracked IP node in bitcoin-seeder's dnsseed.dump
// format, most reliable (30 d) first: address, good, last success,
// reliability over the five windows, blocks, services, version, agent.
func (s *Seeder) Dump(w io.Writer) error {
	var tip int32
	if snap, ok := s.cfg.Census.Snapshot(0); ok {
		tip = snap.LatestHeight
	}
	type line struct {
		key  string
		r30  float64
		text string
	}
	var lines []line
	s.cfg.Census.Nodes(func(n *census.NodeView) {
		if n.Version == nil {
			return
		}
		v := n.Version
		good := 0
		if s.Good(n, tip) {
			good = 1
		}
		var last int64
		if !n.LastSuccess.IsZero() {
			last = n.LastSuccess.Unix()
		}
		agent := strings.Map(func(r rune) rune {
			if r < 0x20 || r == 0x7f || r == '"' {
				return '?'
			}
			return r
		}, v.UserAgent)
		k := n.Addr.String()
		lines = append(lines, line{k, n.Stats[4].Reliability, fmt.Sprintf("%-47s  %4d  %11d  %6.2f%% %6.2f%% %6.2f%% %6.2f%% %6.2f%%  %6d  %08x  %5d \"%s\"\n",
			k, good, last, 100*n.Stats[0].Reliability, 100*n.Stats[1].Reliability, 100*n.Stats[2].Reliability,
			100*n.Stats[3].Reliability, 100*n.Stats[4].Reliability, v.Height, v.Services, v.Protocol, agent)})
	})
	sort.Slice(lines, func(i, j int) bool {
		if lines[i].r30 != lines[j].r30 {
			return lines[i].r30 > lines[j].r30
		}
		return lines[i].key < lines[j].key
	})
	if _, err := io.WriteString(w, "# address                                        good  lastSuccess    %(2h)   %(8h)   %(1d)   %(7d)  %(30d)  blocks      svcs  version\n"); err != nil {
		return err
	}
	for _, l := range lines {
		if _, err := io.WriteString(w, l.text); err != nil {
			return err
		}
	}
	return nil
}

// DumpHandler serves Dump as text (seeds.txt).
func (s *Seeder) DumpHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_ = s.Dump(w)
	})
}
