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

// ClassifyTransport maps a transport error (from connect, read or write) to
// an outcome class. nil and io.EOF mean the peer closed cleanly.
func ClassifyTransport(err error) Class {
	var errno syscall.Errno
	switch {
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
	case syscall.ENETUNREACH, syscall.EHOSTUNREACH, syscall.ENETDOWN, syscall.EHOSTDOWN:
		return ClassUnreachable
	case syscall.ECONNRESET, syscall.EPIPE, syscall.ECONNABORTED:
		return ClassReset
	case syscall.EMFILE, syscall.ENFILE, syscall.EADDRNOTAVAIL, syscall.ENOBUFS, syscall.ENOMEM, syscall.EAGAIN:
		return ClassLocalError
	}
	return ClassReset
}

// IsPressure reports whether err is a sign that we dial too fast for the host
// or its network (seed 002's "Network is unreachable" bursts, fd
// exhaustion): the engines back off when these come in bursts.
func IsPressure(err error) bool {
	var errno syscall.Errno
	if !errors.As(err, &errno) {
		return false
	}
	switch errno {
	case syscall.ENETUNREACH, syscall.EHOSTUNREACH, syscall.EADDRNOTAVAIL, syscall.EMFILE, syscall.ENFILE, syscall.ENOBUFS:
		return true
	}
	return false
}
