package record

import (
	"errors"
	"io"
	"os"
	"syscall"
)

// ErrConnectTimeout is what an engine reports when its connect timer fires.
var ErrConnectTimeout = errors.New("connect timeout")

// ErrAborted is what an engine reports for attempts cut short by shutdown.
var ErrAborted = errors.New("crawl stopped")

// ClassError is an error that already knows its outcome class: an engine
// that decides the class itself (a SOCKS5 failure is proxy-error whatever the
// socket said, a failed socket option is local-error) wraps the cause in it,
// and ClassifyTransport returns Class before looking at the cause.
type ClassError struct {
	Class Class
	Err   error
}

func (e ClassError) Error() string {
	if e.Err == nil {
		return e.Class.String()
	}
	return e.Err.Error()
}

func (e ClassError) Unwrap() error { return e.Err }

// ClassifyTransport maps a transport error (from connect, read or write) to
// an outcome class. nil and io.EOF mean the peer closed cleanly; a
// ClassError anywhere in the chain decides the class.
func ClassifyTransport(err error) Class {
	var (
		errno syscall.Errno
		ce    ClassError
	)
	switch {
	case errors.As(err, &ce):
		return ce.Class
	case err == nil, errors.Is(err, io.EOF):
		return ClassClosed
	case errors.Is(err, ErrConnectTimeout), errors.Is(err, os.ErrDeadlineExceeded):
		return ClassConnectTimeout
	case errors.Is(err, ErrAborted):
		return ClassAborted
	case errors.As(err, &errno):
		return classifyErrno(errno)
	}
	return ClassReset
}

func classifyErrno(e syscall.Errno) Class {
	switch e {
	case syscall.ECONNREFUSED:
		return ClassRefused
	case syscall.ETIMEDOUT:
		return ClassConnectTimeout
	case syscall.ENETUNREACH, syscall.EHOSTUNREACH, syscall.ENETDOWN, syscall.EHOSTDOWN,
		// A host without IPv6 at all reaches no IPv6 network, as one
		// without an IPv6 route (ENETUNREACH): not the peer's doing.
		syscall.EAFNOSUPPORT, syscall.EPROTONOSUPPORT:
		return ClassUnreachable
	case syscall.ECONNRESET, syscall.EPIPE, syscall.ECONNABORTED:
		return ClassReset
	case syscall.EMFILE, syscall.ENFILE, syscall.EADDRNOTAVAIL, syscall.ENOBUFS, syscall.ENOMEM, syscall.EAGAIN:
		return ClassLocalError
	}
	return ClassReset
}
