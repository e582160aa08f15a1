package engine

import (
	"errors"

	"github.com/nodesweep/nodesweep/internal/record"
)

// Drain is a coordinator's stop: it runs shutdown (the engines' bounded
// Shutdown) while handing every delivered attempt to handle, then waits for
// the attempts still owed (inFlight() > 0 after shutdown returned: an
// engine delivers every attempt it was given, aborted if it cut it), so
// nothing dialled goes unrecorded. handle must not dial again.
func Drain(results <-chan *record.Attempt, shutdown func() error, handle func(*record.Attempt) error, inFlight func() int) error {
	done := make(chan error, 1)
	go func() { done <- shutdown() }()
	var err error
	for {
		select {
		case a := <-results:
			err = errors.Join(err, handle(a))
		case serr := <-done:
			for inFlight() > 0 {
				err = errors.Join(err, handle(<-results))
			}
			return errors.Join(err, serr)
		}
	}
}
