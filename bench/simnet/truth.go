package simnet

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"time"
)

// Truth is what a perfect crawl of the network records. Its JSON shape is a
// contract other tools read:
//
//	{"network": "mainnet", "range": "CIDR", "ipv6_range": "CIDR", "cjdns_range": "CIDR",
//	 "seeds": ["ADDR", ...],
//	 "nodes": [{"addr": "ADDR", "class": "reachable", "dialable": true, "live": true,
//	            "protocol_version": 70016, "services": 1033, "user_agent": "…",
//	            "start_height": 925000, "relay": true}, ...]}
//
// Version fields appear only for classes whose nodes send a valid version
// (Class.SendsVersion). A node whose version has no relay field (protocol
// before 70001) has relay true, the meaning of its absence; one without a
// start height (before 209) has start_height 0. The IPv6 and CJDNS ranges
// appear only when the network has such identities; ADDR is "1.2.3.4:P",
// "[2001:db8::1]:P" (IPv6 and CJDNS), "NAME.onion:P" or "NAME.b32.i2p:0".
type Truth struct {
	Network    string      `json:"network"`
	Range      string      `json:"range"`
	IPv6Range  string      `json:"ipv6_range,omitempty"`
	CJDNSRange string      `json:"cjdns_range,omitempty"`
	Seeds      []string    `json:"seeds"`
	Nodes      []TruthNode `json:"nodes"`
}

// TruthNode is one address of the truth.
type TruthNode struct {
	Addr            string  `json:"addr"`
	Class           Class   `json:"class"`
	Dialable        bool    `json:"dialable"`
	Live            bool    `json:"live"` // a running node (Class.Live): gossiped with a timestamp < 24 h old
	ProtocolVersion *uint32 `json:"protocol_version,omitempty"`
	Services        *uint64 `json:"services,omitempty"`
	UserAgent       *string `json:"user_agent,omitempty"`
	StartHeight     *int32  `json:"start_height,omitempty"`
	Relay           *bool   `json:"relay,omitempty"`
	// Transport is what a v2-first crawl speaks with the node ("v2" or
	// "v1", for nodes that send a version); V2 how it answers v2.
	Transport string `json:"transport,omitempty"`
	V2        V2Kind `json:"v2,omitempty"`
	// With Config.Hold: the node's ping answer delay and block
	// announcement delay (hold.go).
	HoldRTTMs    *float64 `json:"hold_rtt_ms,omitempty"`
	BlockDelayMs *float64 `json:"block_delay_ms,omitempty"`
	// A slow-connect node lets a dialler in at its SYN retransmission
	// ConnectSYNs, ConnectMs after its first SYN on this kernel's schedule
	// (slowconnect.go).
	ConnectSYNs *uint8   `json:"connect_syns,omitempty"`
	ConnectMs   *float64 `json:"connect_ms,omitempty"`
}

func truthNode(id Identity) TruthNode {
	t := TruthNode{Addr: id.Addr.String(), Class: id.Class, Dialable: id.Class.Dialable(), Live: id.Class.Live()}
	if id.Class.SendsVersion() {
		t.ProtocolVersion = &id.ProtocolVersion
		t.Services = &id.Services
		t.UserAgent = &id.UserAgent
		t.StartHeight = &id.StartHeight
		t.Relay = &id.Relay
		t.Transport = map[bool]string{true: "v2", false: "v1"}[id.V2 == V2Full]
	}
	t.V2 = id.V2
	if k := id.SYNRetransmits; k > 0 {
		ms := float64(synSchedule(int(k))[k]) / float64(time.Millisecond)
		t.ConnectSYNs, t.ConnectMs = &k, &ms
	}
	return t
}

func (n *Network) truthHeader() Truth {
	seeds := n.Seeds()
	t := Truth{Network: n.cfg.Network.Name, Range: n.cfg.Range.String(), Seeds: make([]string, len(seeds))}
	for i, s := range seeds {
		t.Seeds[i] = s.String()
	}
	if n.cfg.hasIPv6() {
		t.IPv6Range, t.CJDNSRange = n.cfg.IPv6Range.String(), n.cfg.CJDNSRange.String()
	}
	return t
}

// Truth builds the whole truth in memory (about 150 bytes per address;
// WriteTruth streams it instead).
func (n *Network) Truth() *Truth {
	t := n.truthHeader()
	t.Nodes = make([]TruthNode, 0, n.lay.total)
	for u := uint32(0); u < n.lay.total; u++ {
		id := n.lay.identity(u)
		tn := truthNode(id)
		n.holdTruth(&tn, id)
		t.Nodes = append(t.Nodes, tn)
	}
	return &t
}

// WriteTruth streams the truth as JSON, one node per line.
func (n *Network) WriteTruth(w io.Writer) error {
	bw := bufio.NewWriterSize(w, 256<<10)
	head := n.truthHeader()
	hb, err := json.Marshal(struct {
		Network    string   `json:"network"`
		Range      string   `json:"range"`
		IPv6Range  string   `json:"ipv6_range,omitempty"`
		CJDNSRange string   `json:"cjdns_range,omitempty"`
		Seeds      []string `json:"seeds"`
	}{head.Network, head.Range, head.IPv6Range, head.CJDNSRange, head.Seeds})
	if err != nil {
		return err
	}
	bw.Write(hb[:len(hb)-1]) // leave the object open for "nodes"
	bw.WriteString(",\"nodes\":[\n")
	for u := uint32(0); u < n.lay.total; u++ {
		id := n.lay.identity(u)
		tn := truthNode(id)
		n.holdTruth(&tn, id)
		b, err := json.Marshal(tn)
		if err != nil {
			return err
		}
		if u > 0 {
			bw.WriteString(",\n")
		}
		bw.Write(b)
	}
	bw.WriteString("\n]}\n")
	return bw.Flush()
}

// WriteTruthFile writes the truth to path (atomically: a temporary file renamed).
func (n *Network) WriteTruthFile(path string) error {
	tmp := path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	if err := n.WriteTruth(f); err != nil {
		f.Close()
		os.Remove(tmp)
		return err
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return err
	}
	return os.Rename(tmp, path)
}

// ReadTruthFile reads a truth file.
func ReadTruthFile(path string) (*Truth, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var t Truth
	if err := json.NewDecoder(bufio.NewReaderSize(f, 256<<10)).Decode(&t); err != nil {
		return nil, fmt.Errorf("simnet: truth %s: %w", path, err)
	}
	return &t, nil
}
