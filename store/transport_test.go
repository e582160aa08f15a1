package store

import (
	"testing"
	"time"

	"github.com/nodesweep/nodesweep/internal/record"
)

// TestAttemptTransportRoundTrip: the transport and the v2 failure survive
// the attempt encoding; a value in the older format reads as none/ok.
func TestAttemptTransportRoundTrip(t *testing.T) {
	a := &record.Attempt{Class: record.ClassReachable, Start: time.Unix(5, 0), End: time.Unix(6, 0),
		Transport: record.TransportV1, V2Failure: record.V2BadTerminator, Detail: "x"}
	val := encodeAttempt(nil, a)
	var got record.Attempt
	if _, _, err := decodeAttempt([]byte("k"), val, &got); err != nil {
		t.Fatal(err)
	}
	if got.Transport != a.Transport || got.V2Failure != a.V2Failure || got.Detail != "x" || got.Class != a.Class {
		t.Fatalf("%+v", got)
	}
	if c, err := attemptClass([]byte("k"), val); err != nil || c != a.Class {
		t.Fatalf("class %v %v", c, err)
	}
	// The older format: same fields, no trailing transport bytes.
	old := append([]byte{valueV1}, val[1:len(val)-2]...)
	got = record.Attempt{Transport: record.TransportV2, V2Failure: record.V2Closed}
	if _, _, err := decodeAttempt([]byte("k"), old, &got); err != nil {
		t.Fatal(err)
	}
	if got.Transport != record.TransportNone || got.V2Failure != record.V2OK || got.Detail != "x" {
		t.Fatalf("old format: %+v", got)
	}
	if _, _, err := decodeAttempt([]byte("k"), append([]byte{3}, val[1:]...), &got); err == nil {
		t.Fatal("unknown format accepted")
	}
}
