package session

import "time"

// Postpone moves every instant the session keeps d later: its deadlines,
// and the moments its measurements run from (the connection's
// establishment for the version RTT; a held session's ping times). A
// driver that stopped reading the connection for d (its coordinator was
// behind) calls it before it reads again, so that the wait, which was its
// own, neither counts against the peer's timeouts nor in its RTTs. The
// record's Start and End stay as they were.
func (s *Session) Postpone(d time.Duration) {
	if d <= 0 || !s.connected || s.done {
		return
	}
	later(&s.connectedAt, d)
	later(&s.handshakeDeadline, d)
	later(&s.addrDeadline, d)
	later(&s.sessionDeadline, d)
	if h := s.hold; h != nil {
		later(&h.heldAt, d)
		later(&h.nextPing, d)
		later(&h.pingSent, d)
	}
}

// later moves t d later, unless it is unset.
func later(t *time.Time, d time.Duration) {
	if !t.IsZero() {
		*t = t.Add(d)
	}
}
