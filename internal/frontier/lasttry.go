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

// FullConnect notes that a's attempt in flight waits the full connect
// timeout (it was dialled before the first pass's timeout was learned, or
// is its last try): a connect to a that times out from then on has had
// its full wait and earns no last try for it.
func (f *Frontier) FullConnect(a codec.Addr) {
	if e, ok := f.seen[a]; ok && !e.fullConnect {
		e.fullConnect = true
		f.seen[a] = e
	}
}

// HadFullConnect reports whether a connect to a was given the full
// connect timeout (FullConnect).
func (f *Frontier) HadFullConnect(a codec.Addr) bool { return f.seen[a].fullConnect }

// LastTry ends a's in-flight attempt (in place of Done) and queues one more
// attempt on pass p, handed out when nothing else is queued or due (at any
// rank: NextUpTo below the rank of what is still queued hands out nothing
// rather than a last try, which would hold its slot for a long timeout
// while the addresses likeliest to answer wait). It is
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
	f.final.push(a, e.rank)
	return true
}

// NextLastTry hands out the next last try (LastTry), even while addresses
// are still queued: Next gives those first, so a coordinator that holds
// them back (NextUpTo) may fill the slots it would leave idle meanwhile.
// Last tries go by the rank their address was queued at, oldest first
// within a rank: a live node whose connect was slow (a lost SYN) is found
// before the tens of thousands of dead addresses that also timed out.
func (f *Frontier) NextLastTry() (a codec.Addr, try uint8, ok bool) {
	for {
		a, _, ok := f.final.pop(numRanks - 1)
		if !ok {
			return codec.Addr{}, 0, false
		}
		f.final.len--
		e := f.seen[a]
		if e.state != stateRetryWait { // marked done meanwhile
			continue
		}
		f.stats.LastTries++
		return a, f.handOut(a, e), true
	}
}
