package seeds

import (
	"errors"
	"fmt"
)

// Sentinel errors; test with errors.Is.
var (
	// ErrBadSeed: a seed the user gave is neither an address nor a host name,
	// has a bad port, or its name did not resolve.
	ErrBadSeed = errors.New("bad seed")
	// ErrBadSnapshot: a seeds file looks like a bitnodes snapshot (JSON) but
	// cannot be read as one.
	ErrBadSnapshot = errors.New("bad bitnodes snapshot")
	// ErrNoSeeds: the default bootstrap found nothing (no DNS answer and no
	// fixed seeds for the network).
	ErrNoSeeds = errors.New("no seeds")
)

// SeedError names the seed (or file line) that failed and why. It unwraps
// to ErrBadSeed and to the underlying cause (a *net.DNSError, …).
type SeedError struct {
	Seed   string
	Reason string
	Err    error // cause; may be nil
}

func (e *SeedError) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%v %q: %s: %v", ErrBadSeed, e.Seed, e.Reason, e.Err)
	}
	return fmt.Sprintf("%v %q: %s", ErrBadSeed, e.Seed, e.Reason)
}

// Unwrap returns ErrBadSeed and the cause.
func (e *SeedError) Unwrap() []error {
	if e.Err != nil {
		return []error{ErrBadSeed, e.Err}
	}
	return []error{ErrBadSeed}
}
