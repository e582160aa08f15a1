package harness

// notes explain each scenario's set-up choices in the report; they are
// looked up at render time so that a re-render (--from) gets the current text.
var notes = map[string]string{
	"goals": "Why the misses (analysis written for commit 424a389; the profiles are at the end of this file). " +
		"**S1** — the reactor is 1.32× the goroutine engine per CPU-second and 1.30× in handshakes/s, but 70 % of its CPU is in " +
		"the system calls each node needs: write 25 % (two per node: our version, then sendaddrv2+verack+getaddr; on loopback a " +
		"write also runs the receiver's side), connect 22 %, close 9 %, read 6 %, socket 4 %; epoll_ctl and epoll_wait together 5 %. " +
		"The rest is the coordinator and frontier (11 %), the session (9 %) and GC (3 %), which both engines run alike. The reactor's " +
		"own code is a few per cent, so removing all of it would reach about 1.4×, not 1.5×. The floor does one write and one read " +
		"per node and no getaddr, addr parsing or frontier: 0.5× of it would take fewer system calls per node than the exchange " +
		"the crawler makes. **S3** — wall 1.19× the lower bound; CPU 0.65× the goroutine engine's, not 0.5×. A profile of the " +
		"reactor on S3: the frontier's Add is 34 % (20,000 answers of 1,000 addresses: 20 M lookups in a map of 200,000 " +
		"addresses, the same work in both engines), socket+connect+close of 200,000 addresses 32 %, the session 7 %. Taking the frontier's ≈5 s off " +
		"both engines would give 14.6 s vs 25.4 s, 0.57×: the per-address system calls, the same in both, keep the ratio above 0.5×.",
	"S1": "`--getaddr-wait 1s` (default 5 s) in every throughput scenario (S1, S4, S5, S7a), for every variant alike: " +
		"the simulator's protocol-209 nodes (3 % of them) answer getaddr with an empty addr, and the session keeps waiting " +
		"the whole getaddr wait for a non-empty one (record detail \"no answer to getaddr\"), so with the default every crawl " +
		"ends with a 5-s idle tail that measures the timer, not the engine. The floor dials the truth's reachable addresses directly " +
		"(no discovery, no getaddr), with the same number in flight.",
	"S2": "Silent peers (accept, never speak) hold each connection for the whole handshake timeout and leave nothing to record, " +
		"so the peak is the cost of connections in flight. (Slow peers, tried first, all answer after the same delay: ~15k sessions " +
		"then finish within a second, and the finished attempts with their addr payloads, not the connections in flight, set the peak.) " +
		"`--retries 0` so that each silent peer is held once. The idle runs use the same flags with one refused seed and no simulator.",
	"S3": "The lower bound assumes every address is known at the start. The crawler learns them from the reachable nodes, " +
		"and its frontier is FIFO: once the first wave of black-holed connects fills all 15,000 slots, the reachable nodes " +
		"discovered meanwhile wait up to one connect timeout for a slot, and the addresses they gossip start one round later. " +
		"A sweep therefore takes about two or more connect-timeout rounds whatever the engine.",
	"S7": "`--syn-retries 2` gives up a black-holed connect after ~7 s, longer than the 5-s connect timeout, so on these " +
		"networks it should change nothing; `--linger0` (RST on close) spares TIME_WAIT on the crawler's side.",
}
