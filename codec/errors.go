package codec

import (
	"errors"
	"fmt"
)

// Sentinels, one per class of failure. Every error this package returns
// wraps exactly one of them (test with errors.Is) and is one of the typed
// errors below (inspect with errors.As).
var (
	// ErrBadMagic: bytes that do not start with the network magic were
	// skipped to resynchronise. Not fatal: decoding goes on after them.
	ErrBadMagic = errors.New("bad magic")
	// ErrChecksum: a whole frame arrived but its checksum is wrong. Not
	// fatal: the frame is dropped, as Bitcoin Core drops it.
	ErrChecksum = errors.New("bad checksum")
	// ErrOversized: a header declares a payload above its command's cap.
	// Fatal for the stream: we cannot know where the next frame starts
	// without trusting the length, and Core disconnects too.
	ErrOversized = errors.New("oversized payload")
	// ErrTruncated: a payload ended before a required field.
	ErrTruncated = errors.New("truncated")
	// ErrMalformed: a field holds a value the protocol forbids.
	ErrMalformed = errors.New("malformed field")
)

// GarbageError reports bytes skipped while scanning for the magic.
type GarbageError struct{ Skipped int }

func (e *GarbageError) Error() string {
	return fmt.Sprintf("%v: skipped %d bytes to resynchronise", ErrBadMagic, e.Skipped)
}
func (e *GarbageError) Unwrap() error { return ErrBadMagic }

// ChecksumError reports a frame dropped for its checksum.
type ChecksumError struct {
	Command   Command
	Name      string
	Got, Want [4]byte
}

func (e *ChecksumError) Error() string {
	return fmt.Sprintf("%v: %q frame checksum %x, header says %x", ErrChecksum, e.Name, e.Got, e.Want)
}
func (e *ChecksumError) Unwrap() error { return ErrChecksum }

// OversizeError reports a header whose length exceeds the cap.
type OversizeError struct {
	Name   string
	Length uint32
	Max    uint32
}

func (e *OversizeError) Error() string {
	return fmt.Sprintf("%v: %q frame declares %d bytes, cap %d", ErrOversized, e.Name, e.Length, e.Max)
}
func (e *OversizeError) Unwrap() error { return ErrOversized }

// FieldError reports which field of which message could not be parsed.
// Err is ErrTruncated or ErrMalformed.
type FieldError struct {
	Msg    string // "version", "addrv2", …
	Field  string // "user_agent", "count", "entry 17 address", …
	Offset int    // byte offset of the field in the payload
	Err    error
	Detail string // optional: why it is malformed
}

func (e *FieldError) Error() string {
	s := fmt.Sprintf("%s: %v: %s at offset %d", e.Msg, e.Err, e.Field, e.Offset)
	if e.Detail != "" {
		s += ": " + e.Detail
	}
	return s
}
func (e *FieldError) Unwrap() error { return e.Err }
