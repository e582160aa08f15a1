// Package record defines what a crawl writes down: one Attempt per
// connection attempt, with the version and addr messages it received, raw and
// parsed. It is the contract between the engines (which produce records) and
// the store (which keeps them); it does no I/O.
package record

import (
	"fmt"
	"strconv"
	"time"

	"github.com/nodesweep/nodesweep/codec"
)

// CrawlID identifies one crawl: the start time in unix nanoseconds, so that
// ids sort by time.
type CrawlID uint64

func (id CrawlID) String() string { return strconv.FormatUint(uint64(id), 10) }

// ParseCrawlID parses the decimal form String produces.
func ParseCrawlID(s string) (CrawlID, error) {
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("bad crawl id %q: %w", s, err)
	}
	return CrawlID(v), nil
}

// Class is the outcome class of one attempt (zgrab2's status): exactly one
// per attempt. The string forms are part of the export formats.
type Class uint8

// Outcome classes.
const (
	ClassUnknown          Class = iota
	ClassReachable              // version received and verack exchanged
	ClassRefused                // connect: RST (ECONNREFUSED)
	ClassConnectTimeout         // connect: no answer within the connect timeout
	ClassUnreachable            // connect: ENETUNREACH / EHOSTUNREACH / no route
	ClassReset                  // peer reset the connection after connect
	ClassClosed                 // peer closed (EOF) before the handshake finished
	ClassHandshakeTimeout       // connected, but no version+verack within the handshake timeout
	ClassProtocol               // peer broke the protocol (bad payload, bad checksums only, …)
	ClassOversized              // peer declared a payload above our cap
	ClassWrongNetwork           // peer speaks another network's magic only
	ClassLocalError             // our side failed: EMFILE, EADDRNOTAVAIL, … (retried)
	ClassProxyError             // SOCKS5 proxy refused or failed the connection
	ClassSessionTimeout         // connected, but the handshake was still incomplete when the whole-session cap expired (a session that completed it is reachable)
	ClassAborted                // the crawl stopped (signal) while this attempt ran
	numClasses
)

var classNames = [numClasses]string{"unknown", "reachable", "refused", "connect-timeout", "unreachable",
	"reset", "closed", "handshake-timeout", "protocol-error", "oversized", "wrong-network",
	"local-error", "proxy-error", "session-timeout", "aborted"}

func (c Class) String() string {
	if c < numClasses {
		return classNames[c]
	}
	return "class" + strconv.Itoa(int(c))
}

// ParseClass reads the string form.
func ParseClass(s string) (Class, error) {
	for i, n := range classNames {
		if n == s {
			return Class(i), nil
		}
	}
	return 0, fmt.Errorf("unknown outcome class %q", s)
}

// AllClasses lists every class, for reports.
func AllClasses() []Class {
	out := make([]Class, 0, numClasses)
	for c := Class(1); c < numClasses; c++ {
		out = append(out, c)
	}
	return out
}

// Reachable reports whether an attempt of this class completed the version
// handshake: the one rule by which exports, reports, counts, resume and seeds
// call an address reachable. The session records a handshake cut short by
// its caps as reachable (with a detail); session-timeout means it never
// completed.
func (c Class) Reachable() bool { return c == ClassReachable }

// Transient reports whether an attempt of this class is worth retrying
// within the same crawl (timeouts, resets, our own resource errors — not
// refusals nor protocol errors).
func (c Class) Transient() bool {
	switch c {
	case ClassConnectTimeout, ClassReset, ClassLocalError, ClassHandshakeTimeout, ClassProxyError:
		return true
	}
	return false
}

// Version is a version message as received: the raw payload and its fields
// (the store keeps only Raw and derives Msg from it when it reads).
type Version struct {
	Raw []byte
	Msg codec.Version
}

// AddrMessage is one addr or addrv2 message as received. The store keeps
// Command and Raw (once per distinct payload) and how many entries were
// kept; Entries and Skipped are parsed again from Raw when read.
type AddrMessage struct {
	Command codec.Command // CmdAddr or CmdAddrV2
	Raw     []byte
	// Entries are the parsed entries the session kept: a prefix of Raw's
	// (it keeps at most codec.MaxAddrEntries per session).
	Entries []codec.AddrEntry
	// Skipped counts addrv2 entries of unknown network IDs.
	Skipped int
	// Hash is codec.DoubleSHA256(Raw) when the transport computed it (a v1
	// frame's checksum is its first 4 bytes), zero when it did not and in
	// records read back from the store: the store names each distinct
	// payload by it instead of hashing Raw again. Never set it to anything
	// else.
	Hash [32]byte
}

// Attempt is one connection attempt to one address and all it produced.
type Attempt struct {
	Crawl CrawlID
	Addr  codec.Addr
	Try   uint8 // 0 for the first attempt, 1.. for retries
	Start time.Time
	End   time.Time
	// ConnectRTT: from the first SYN to the connection's establishment (0 if
	// it never connected). VersionRTT: from establishment to their version.
	ConnectRTT time.Duration
	VersionRTT time.Duration
	Class      Class
	Detail     string // short error text, empty when reachable
	BytesIn    uint64
	BytesOut   uint64
	Version    *Version      // nil unless a version was received
	Addrs      []AddrMessage // every addr/addrv2 message received
	// Counters of what the peer did that we tolerated.
	GarbageBytes  uint32 // bytes skipped to resynchronise on the magic
	BadChecksums  uint16 // frames dropped for their checksum
	SkippedFrames uint32 // frames of commands we do not read
	// Transport is the framing spoken; V2Failure why a v2 handshake (this
	// connection's, or the v2 leg before this v1 one) did not complete.
	Transport Transport
	V2Failure V2Failure
	// RetryV1 marks the v2 leg of a v2-first attempt that found no v2 peer:
	// the coordinator redials the same job over v1 and records only that
	// leg (which carries V2Failure). Never stored.
	RetryV1 bool
}

// CutV1Leg is what a coordinator that is stopping does with a v2 leg that
// wants its v1 leg (RetryV1): the test did not finish, so it is recorded as
// cut short by our stop, not as the peer's failure.
func (a *Attempt) CutV1Leg() {
	a.RetryV1 = false
	a.Class = ClassAborted
	a.Detail = "stopped before the v1 leg (v2: " + a.V2Failure.String() + ")"
}

// AddrProtocol is the protocol version an attempt's addr (v1) payloads are
// read with: the lower of ours (codec.ProtocolCurrent) and the peer's
// version, ours when no version was received. It decides whether addr
// entries carry a timestamp; the session parses with it and the store
// re-parses stored payloads with it.
func (a *Attempt) AddrProtocol() int32 {
	pver := int32(codec.ProtocolCurrent)
	if a.Version != nil {
		pver = min(pver, a.Version.Msg.Protocol)
	}
	return pver
}

// Learned returns the addresses this attempt learned from the peer's
// addr/addrv2 messages, in order, with duplicates.
func (a *Attempt) Learned() []codec.Addr {
	var out []codec.Addr
	for _, m := range a.Addrs {
		for _, e := range m.Entries {
			out = append(out, e.Addr)
		}
	}
	return out
}

// CrawlMeta describes a crawl as the store keeps it.
type CrawlMeta struct {
	ID       CrawlID
	Network  string // codec.Params.Name
	Start    time.Time
	End      time.Time // zero while unfinished
	Finished bool
	Flags    []string // the command line, for the record
}

// Sink receives a crawl's records. Implementations must be safe for use by
// one goroutine at a time per method call pattern documented by the engine:
// the engines call Record from a single collector goroutine.
type Sink interface {
	// Seen records addresses put into the frontier (seeds and gossip) with
	// the address that told us (the zero Addr for seeds). Called before the
	// addresses are dialled, so that a resumed crawl can rebuild its frontier.
	// addrs is only valid during the call: the caller reuses it.
	Seen(crawl CrawlID, from codec.Addr, addrs []codec.Addr) error
	// Record keeps one finished attempt. It may keep referring to a's
	// payload bytes (Version.Raw, Addrs[i].Raw) until they are written:
	// the caller does not modify them afterwards.
	Record(a *Attempt) error
	// Flush makes everything recorded so far durable.
	Flush() error
}
