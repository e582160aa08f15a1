package record

import (
	"fmt"
	"strconv"
)

// Transport is the framing an attempt's connection spoke: v1 (plaintext
// BIP-less framing) or v2 (BIP324 encrypted packets). TransportNone when it
// never connected. The string forms are part of the export formats.
type Transport uint8

// Transports.
const (
	TransportNone Transport = iota
	TransportV1
	TransportV2
	numTransports
)

var transportNames = [numTransports]string{"", "v1", "v2"}

func (t Transport) String() string {
	if t < numTransports {
		return transportNames[t]
	}
	return "transport" + strconv.Itoa(int(t))
}

// V2Failure says why a BIP324 v2 handshake did not complete (V2OK when it
// did or was never tried). On a v1 attempt it is the failure of the v2 leg
// that came before it on the same attempt. The string forms are part of the
// export formats.
type V2Failure uint8

// V2 handshake failures.
const (
	V2OK            V2Failure = iota
	V2V1Reply                 // the peer answered with a v1 version header
	V2Closed                  // the peer closed before its garbage terminator
	V2Reset                   // the peer reset the connection before its terminator
	V2Timeout                 // no terminator and version packet within the handshake timeout
	V2BadTerminator           // 4095 bytes of garbage and no terminator
	V2BadTag                  // a packet failed authentication
	V2Oversized               // a packet declared more than the payload cap
	V2Protocol                // anything else the v2 layer refused (unusable key, bad message type)
	numV2Failures
)

var v2FailureNames = [numV2Failures]string{"", "v1-reply", "closed", "reset", "timeout", "bad-terminator",
	"bad-tag", "oversized", "protocol"}

func (f V2Failure) String() string {
	if f < numV2Failures {
		return v2FailureNames[f]
	}
	return "v2failure" + strconv.Itoa(int(f))
}

// ParseV2Failure reads the string form.
func ParseV2Failure(s string) (V2Failure, error) {
	for i, n := range v2FailureNames {
		if n == s {
			return V2Failure(i), nil
		}
	}
	return 0, fmt.Errorf("unknown v2 failure %q", s)
}

// AllV2Failures lists every failure (not V2OK), for reports.
func AllV2Failures() []V2Failure {
	out := make([]V2Failure, 0, numV2Failures)
	for f := V2Failure(1); f < numV2Failures; f++ {
		out = append(out, f)
	}
	return out
}
