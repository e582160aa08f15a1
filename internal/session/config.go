package session

import (
	"crypto/rand"
	"io"
	"time"

	"github.com/nodesweep/nodesweep/codec"
)

// Defaults, in one place. Each is a protocol-level bound; the reactor enforces
// them through Deadline() and its timer wheel.
const (
	// DefaultHandshakeTimeout bounds connect→(version+verack). Bitcoin Core
	// allows 60 s (DEFAULT_PEER_CONNECT_TIMEOUT), but a live node answers in
	// one RTT; 10 s keeps slowloris peers from holding a slot for a minute.
	DefaultHandshakeTimeout = 10 * time.Second
	// PatientHandshakeTimeout is Core's own limit (DEFAULT_PEER_CONNECT_TIMEOUT,
	// 60 s): the last try of a node that accepted but answered late.
	PatientHandshakeTimeout = 60 * time.Second
	// DefaultGetAddrWait bounds getaddr→addr. Core answers at once from its
	// cache; bitnodes polls ~9 s. Peers that say nothing in time are still
	// recorded as reachable.
	DefaultGetAddrWait = 5 * time.Second
	// DefaultSessionTimeout caps one connection's whole life after connect.
	DefaultSessionTimeout = 20 * time.Second
	// DefaultMaxBytesIn caps what one peer may send us in one session: one
	// full addrv2 answer with slack. Past it the session ends.
	DefaultMaxBytesIn = 2 << 20
	// DefaultMaxFrames caps frames per session (an endless inv stream).
	DefaultMaxFrames = 2000
)

// Config says how a session behaves. Zero fields take the defaults above.
type Config struct {
	Params           codec.Params
	UserAgent        string // e.g. "/nodesweep:0.1.0/"
	Protocol         int32  // our protocol version; default codec.ProtocolCurrent
	StartHeight      int32
	Services         uint64
	Relay            bool
	HandshakeTimeout time.Duration
	GetAddrWait      time.Duration
	SessionTimeout   time.Duration
	MaxBytesIn       int
	MaxFrames        int
	// NoGetAddr: only record the version, do not ask for addresses.
	NoGetAddr bool
	// Entropy is where v2 keys and garbage come from (default crypto/rand;
	// shared by every session, so it must be safe for concurrent use).
	Entropy io.Reader
	// V2MaxGarbage caps the garbage we send after our v2 key (default
	// DefaultV2Garbage; at most 4095).
	V2MaxGarbage int
	// Hold, if set, keeps each session open after its handshake (see
	// HoldConfig); the session cap then does not apply.
	Hold *HoldConfig
}

// withDefaults returns c with zero fields set to the defaults.
func (c Config) withDefaults() Config {
	if c.Params.Name == "" {
		c.Params = codec.Mainnet
	}
	if c.Protocol == 0 {
		c.Protocol = codec.ProtocolCurrent
	}
	if c.UserAgent == "" {
		c.UserAgent = "/nodesweep/"
	}
	if c.HandshakeTimeout <= 0 {
		c.HandshakeTimeout = DefaultHandshakeTimeout
	}
	if c.GetAddrWait <= 0 {
		c.GetAddrWait = DefaultGetAddrWait
	}
	if c.SessionTimeout <= 0 {
		c.SessionTimeout = DefaultSessionTimeout
	}
	if c.MaxBytesIn <= 0 {
		c.MaxBytesIn = DefaultMaxBytesIn
	}
	if c.MaxFrames <= 0 {
		c.MaxFrames = DefaultMaxFrames
	}
	if c.Entropy == nil {
		c.Entropy = rand.Reader
	}
	if c.V2MaxGarbage <= 0 {
		c.V2MaxGarbage = DefaultV2Garbage
	}
	c.V2MaxGarbage = min(c.V2MaxGarbage, 4095)
	if c.Hold != nil {
		h := c.Hold.withDefaults()
		c.Hold = &h
	}
	return c
}
