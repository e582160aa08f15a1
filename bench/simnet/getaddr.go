package simnet

import "time"

// getaddr as Bitcoin Core answers it (net_processing.cpp, net.cpp
// CConnman::GetAddresses): at most MAX_ADDR_TO_SEND = 1000 addresses and at
// most MAX_PCT_ADDR_TO_SEND = 23 % of its address manager, drawn at random,
// from a cache kept per requesting network for 21 h plus a random 0–6 h,
// so everyone asking within that time gets the same answer.
//
// A simulated node's address table is implicit: tableSize entries, entry k
// a hash of (node, k) over the universe. Each cache period the answer is a
// fresh random selection of Degree of them (Degree is 23 % of the table),
// walked as off, off+stride, … mod tableSize with stride coprime to it, so
// no table is stored and an answer costs what it returns. Ring duties
// (layout.gossip) are part of every answer, so the truth stays reachable
// by gossip in every period.
const (
	getaddrPct = 23
	// DefaultGetAddrCache is how long a node keeps its answer (Core: 21 h);
	// each node adds a random 0–6/21 of it.
	DefaultGetAddrCache = 21 * time.Hour
)

// tableSize is the number of entries of a node's address table: its
// answer is 23 % of them.
func (l *layout) tableSize() uint64 {
	return max(1, (uint64(l.cfg.Degree)*100+getaddrPct-1)/getaddrPct)
}

// tableEntry is entry k of node u's address table (a universe index).
func (l *layout) tableEntry(u uint32, k uint64) uint32 {
	return uint32(mix64(l.h(u, saltGossip)^mix64(k+1)) % uint64(l.total))
}

// cacheEpoch numbers node u's answer cache periods: each lasts the cache
// time plus the node's own 0–6/21 of it, at a phase of its own.
func (l *layout) cacheEpoch(u uint32, now time.Time) uint64 {
	base := uint64(l.cfg.GetAddrCache)
	r := l.h(u, saltGetAddrCache)
	life := max(1, base+r%(base*6/21+1))
	phase := (r >> 20) % life
	return (uint64(now.UnixNano()) + phase) / life
}

// tableWalk picks the table positions of one cache period: a random start
// and a stride coprime to the table size visit every entry once.
func (l *layout) tableWalk(u uint32, epoch uint64) (off, stride, rng uint64) {
	n := l.tableSize()
	rng = mix64(l.h(u, saltGossip) ^ mix64(epoch^0x5bd1e995))
	off = rng % n
	rng = mix64(rng)
	stride = rng%n | 1
	for gcd(stride, n) != 1 {
		stride = (stride + 1) % n
		if stride == 0 {
			stride = 1
		}
	}
	return off, stride, mix64(rng)
}
