package store

import (
	"testing"
	"time"

	"github.com/nodesweep/nodesweep/internal/record"
)

// TestAttemptTransportRoundTrip: the transport and the v2 failure survive
// the attempt encoding as their own tagged field; a value without that tag
// (a v1 attempt that never tried v2) reads as none/ok.
func TestAttemptTransportRoundTrip(t *testing.T) {
	a := &record.Attempt{Class: record.ClassReachable, Start: time.Unix(5, 0), End: time.Unix(6, 0),
		Transport: record.TransportV1, V2Failure: record.V2BadTerminator, Detail: "x"}
	val := encodeAttempt(nil, a, nil)
	var got record.Attempt
	if _, err := decodeAttempt([]byte("k"), val, &got, true, nil); err != nil {
		t.Fatal(err)
	}
	if got.Transport != a.Transport || got.V2Failure != a.V2Failure || got.Detail != "x" || got.Class != a.Class {
		t.Fatalf("%+v", got)
	}
	if c, err := attemptClass([]byte("k"), val); err != nil || c != a.Class {
		t.Fatalf("class %v %v", c, err)
	}
	// Without the tag: the decoder must reset what a reused record held.
	plain := encodeAttempt(nil, &record.Attempt{Class: record.ClassRefused, Detail: "x"}, nil)
	got = record.Attempt{Transport: record.TransportV2, V2Failure: record.V2Closed}
	if _, err := decodeAttempt([]byte("k"), plain, &got, true, nil); err != nil {
		t.Fatal(err)
	}
	if got.Transport != record.TransportNone || got.V2Failure != record.V2OK || got.Detail != "x" {
		t.Fatalf("no transport tag: %+v", got)
	}
	// A transport field of the wrong length is corruption, not a guess.
	bad := append(append([]byte(nil), plain...), byte(tagTransport), 1, 0)
	if _, err := decodeAttempt([]byte("k"), bad, &got, true, nil); err == nil {
		t.Fatal("one-byte transport field accepted")
	}
}
