package frontier

import "github.com/nodesweep/nodesweep/codec"

// Pass says on which pass an address's attempt is: the first pass uses the
// crawl's current (possibly shortened) timeouts; a last try, handed out
// after everything else, a longer one.
type Pass uint8

// Passes, in escalating order.
const (
	PassFirst Pass = iota
	// PassFullConnect: the connect timed out at a shortened timeout; the
	// last try waits the full connect timeout.
	PassFullConnect
	// PassPatient: the node accepted but did not finish the handshake in
	// time; the last try waits as long as Bitcoin Core would.
	PassPatient
)

func (p Pass) String() string {
	switch p {
	case PassFullConnect:
		return "full-connect"
	case PassPatient:
		return "patient"
	}
	return "first"
}

// PassOf is the pass of a's current (or next) attempt.
func (f *Frontier) PassOf(a codec.Addr) Pass { return f.seen[a].pass }

// LastTry ends a's in-flight attempt (in place of Done) and queues one more
// attempt on pass p, handed out when nothing else is queued or due. It is
// charged to the address's retry budget while any is left, and given anyway
// when none is (a shortened timeout must not cost recall). It refuses (false,
// nothing changed: call Done) unless p is a later pass than a's current one,
// so an address gets at most one last try per pass.
func (f *Frontier) LastTry(a codec.Addr, p Pass) bool {
	e, ok := f.seen[a]
	if !ok || e.state != stateInFlight || p <= e.pass || e.tries >= maxTries {
		return false
	}
	f.stats.InFlight--
	if int(e.retried) < f.maxRetries {
		e.retried++
	}
	e.pass = p
	e.state = stateRetryWait
	f.seen[a] = e
	f.final = append(f.final, a)
	return true
}
