package simnet

import (
	"fmt"
	"strings"
)

// Class is what an address does when a crawler dials it. Its String is the
// "class" of the ground truth.
type Class uint8

// Outcome classes of simulated identities (IPv4, IPv6, CJDNS).
const (
	ClassInvalid     Class = iota
	ClassReachable         // completes the handshake, answers getaddr once
	ClassRefused           // nothing listens: immediate RST
	ClassBlackholed        // SYNs dropped: connect times out
	ClassSilent            // accepts, never speaks
	ClassSlow              // speaks only after Config.SlowDelay, then behaves as reachable
	ClassClosesEarly       // reads the crawler's version, then closes without a word
	ClassFlakyReset        // resets the first connection, then behaves as reachable
	ClassFlakySilent       // stays silent on the first connection, then behaves as reachable
	ClassSlowConnect       // its connect completes only at SYN retransmission Identity.SYNRetransmits (slowconnect.go), then behaves as reachable
	ClassHostile           // only in a Mix: spread over the hostile kinds

	// Hostile kinds. Each accepts on the accept port.
	HostileGarbagePrefix      // garbage bytes, then a normal node
	HostileGarbageBetween     // garbage between version, verack and addr
	HostileWrongMagic         // speaks with testnet3's magic
	HostileBadChecksum        // its version has a bad checksum, then silence
	HostileLengthMax          // a header with length 0xFFFFFFFF, then silence
	HostileLength4000001      // a header with length 4,000,001, then silence
	HostileHugeUserAgent      // version whose user agent claims 2^32 bytes
	HostileTruncatedVersion   // a well-framed 20-byte version payload
	HostileVersionThenSilence // version, never verack
	HostileSlowloris          // its version one byte per second
	HostileInvFlood           // handshake, then an endless stream of inv and unknown commands
	HostileAddrSpam           // answers getaddr with 10 addr messages of 1000 entries
	HostileAddrClaim50k       // addr whose count claims 50,000 entries, with 10 present
	HostileAddrV2Bad          // addrv2 with unknown network IDs and oversized addresses
	HostileDuplicateVersion   // sends version twice
	HostileVerackFirst        // verack before version
	HostileRST                // accepts and resets at once
	HostileCloseMidMessage    // closes in the middle of its version

	// Gossip-only addresses a crawler restricted to the range must record but not dial.
	ClassOnion     // TorV3, served through the SOCKS5 front
	ClassI2P       // I2P, never served
	ClassCJDNS     // CJDNS fc00::/8, never served
	ClassForbidden // loopback outside the range, on the accept port: every dial is logged

	numClasses
)

var classNames = [numClasses]string{
	ClassInvalid: "invalid", ClassReachable: "reachable", ClassRefused: "refused",
	ClassBlackholed: "blackholed", ClassSilent: "silent", ClassSlow: "slow",
	ClassClosesEarly: "closes-early", ClassFlakyReset: "flaky-reset", ClassFlakySilent: "flaky-silent",
	ClassSlowConnect:     "slow-connect",
	ClassHostile:         "hostile",
	HostileGarbagePrefix: "hostile-garbage-prefix", HostileGarbageBetween: "hostile-garbage-between",
	HostileWrongMagic: "hostile-wrong-magic", HostileBadChecksum: "hostile-bad-checksum",
	HostileLengthMax: "hostile-length-max", HostileLength4000001: "hostile-length-4000001",
	HostileHugeUserAgent: "hostile-huge-user-agent", HostileTruncatedVersion: "hostile-truncated-version",
	HostileVersionThenSilence: "hostile-version-then-silence", HostileSlowloris: "hostile-slowloris",
	HostileInvFlood: "hostile-inv-flood", HostileAddrSpam: "hostile-addr-spam",
	HostileAddrClaim50k: "hostile-addr-claim-50k", HostileAddrV2Bad: "hostile-addrv2-bad",
	HostileDuplicateVersion: "hostile-duplicate-version", HostileVerackFirst: "hostile-verack-first",
	HostileRST: "hostile-rst", HostileCloseMidMessage: "hostile-close-mid-message",
	ClassOnion: "onion", ClassI2P: "i2p", ClassCJDNS: "cjdns", ClassForbidden: "forbidden",
}

// AllHostileKinds lists every hostile behaviour.
var AllHostileKinds = func() []Class {
	var out []Class
	for c := HostileGarbagePrefix; c <= HostileCloseMidMessage; c++ {
		out = append(out, c)
	}
	return out
}()

func (c Class) String() string {
	if c < numClasses {
		return classNames[c]
	}
	return fmt.Sprintf("class%d", uint8(c))
}

// ParseClass reads a class name as String writes it.
func ParseClass(s string) (Class, error) {
	s = strings.ToLower(s)
	for c, n := range classNames {
		if n == s && c != int(ClassInvalid) {
			return Class(c), nil
		}
	}
	return ClassInvalid, fmt.Errorf("simnet: unknown class %q", s)
}

// MarshalText writes the class name (JSON).
func (c Class) MarshalText() ([]byte, error) { return []byte(c.String()), nil }

// UnmarshalText reads a class name (JSON).
func (c *Class) UnmarshalText(b []byte) error {
	p, err := ParseClass(string(b))
	*c = p
	return err
}

// IsHostile reports whether c is one of the hostile kinds.
func (c Class) IsHostile() bool { return c >= HostileGarbagePrefix && c <= HostileCloseMidMessage }

// isIdentityClass: classes an identity of the simulated ranges (IPv4, IPv6,
// CJDNS) can have.
func (c Class) isIdentityClass() bool {
	return c >= ClassReachable && c <= HostileCloseMidMessage && c != ClassHostile
}

// Dialable reports whether a crawler limited to the simulated ranges may dial
// an address of this class.
func (c Class) Dialable() bool { return c.isIdentityClass() }

// SendsVersion reports whether a node of this class sends a valid version
// message of the simulated network: its truth entry carries version fields.
func (c Class) SendsVersion() bool {
	switch c {
	case ClassReachable, ClassFlakyReset, ClassFlakySilent, ClassSlow, ClassSlowConnect, HostileGarbagePrefix, HostileGarbageBetween,
		HostileVersionThenSilence, HostileSlowloris, HostileInvFlood, HostileAddrSpam,
		HostileAddrClaim50k, HostileAddrV2Bad, HostileDuplicateVersion, HostileVerackFirst,
		ClassOnion:
		return true
	}
	return false
}

// MustBeReachable reports whether a correct crawler records the node as
// reachable: reachable nodes, and the flaky ones once it retries the
// transient failure of their first connection (a reset, a handshake
// timeout) as a crawler should.
func (c Class) MustBeReachable() bool {
	return c == ClassReachable || c == ClassFlakyReset || c == ClassFlakySilent
}

// MayBeReachable reports whether a correct crawler may record the node as
// reachable (the protocol allows completing the handshake) without it
// being required: a slow node answers after typical timeouts, a
// slow-connect node completes its connect after short ones, hostile kinds
// that still complete a valid handshake, onions through the SOCKS front.
func (c Class) MayBeReachable() bool {
	switch c {
	case ClassSlow, ClassSlowConnect, HostileGarbagePrefix, HostileGarbageBetween, HostileSlowloris,
		HostileInvFlood, HostileAddrSpam, HostileAddrClaim50k, HostileAddrV2Bad,
		HostileDuplicateVersion, HostileVerackFirst, ClassOnion:
		return true
	}
	return false
}

// portKind says which listener an address of a class sits on.
type portKind uint8

const (
	portAccept portKind = iota
	portRefused
	portBlackhole
	portSlowConnect // a listener of its own whose queue the simulator keeps full
	portDefault     // onion and CJDNS: the network's default port
	portZero        // I2P: port 0 (BIP155)
)

func (c Class) port() portKind {
	switch c {
	case ClassRefused:
		return portRefused
	case ClassBlackholed:
		return portBlackhole
	case ClassSlowConnect:
		return portSlowConnect
	case ClassOnion, ClassCJDNS:
		return portDefault
	case ClassI2P:
		return portZero
	}
	return portAccept
}
