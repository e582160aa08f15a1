package simnet

// Gossip timestamps as real addrman answers carry them: a live node
// re-announces its own address at least every 24 h (Core's
// AdvertiseLocal), so the freshest copy a peer holds is less than a day
// old; a dead address keeps the time of its last announcement and ages
// until addrman forgets it after 30 days (ADDRMAN_HORIZON). A crawler that
// reads timestamps can tell them apart; one that does not is not misled
// either: every address is still gossiped.

const (
	day = 24 * 60 * 60
	// deadMinAge and deadMaxAge bound a dead address's timestamp age.
	deadMinAge = 1 * day
	deadMaxAge = 30 * day
)

// Live reports whether an address of this class is a running node: it
// accepts connections (or, for gossip-only networks, would on its own
// network). Refused and black-holed addresses are the dead ones.
func (c Class) Live() bool {
	switch c {
	case ClassRefused, ClassBlackholed, ClassInvalid:
		return false
	}
	return true
}

// gossipTime is the timestamp an answer at now (unix seconds) gives
// universe index u of class c: within the last 24 h when live, 1 to 30
// days old when dead; fixed per address (the same in every answer).
func (l *layout) gossipTime(u uint32, c Class, now uint32) uint32 {
	r := l.h(u, saltTimestamp)
	if c.Live() {
		return now - uint32(r%day)
	}
	return now - deadMinAge - uint32(r%(deadMaxAge-deadMinAge))
}
