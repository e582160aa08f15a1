// Package frontier is a crawl's address book: it deduplicates addresses on
// their canonical form, decides by Policy which may be dialled (routable
// public IPs; onion only with a proxy; private, loopback, link-local,
// documentation, multicast and reserved ranges never, unless --allow-net
// covers them), queues them by the evidence that they are live (seeds, gossip
// timestamp, distinct reporters; FIFO as an option), keeps last tries with a
// longer timeout for the end, and schedules retries of transient failures
// with exponential delay. It caps how many addresses it keeps, so gossip
// cannot exhaust memory. Pure: no I/O, no clock (times are passed in), no
// locking (one owner).
package frontier
