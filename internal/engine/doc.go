// Package engine is the contract between the coordinator (internal/crawl)
// and the two engines that make connections: the reactor (eventloop/) and
// one goroutine per connection (internal/engine/goroutine).
//
// It holds what both engines share, so that they cannot drift apart:
//
//   - Job (one dial) and Engine (Dial, Shutdown, Close);
//   - Options, with every engine default defined here once;
//   - the routing decision for an address (direct, through the SOCKS5
//     proxy, or refused by policy), made once in Options.Route;
//   - Conversation: SOCKS5 (when routed through the proxy) then the
//     protocol session, as one pure state machine — bytes and clock
//     readings in, bytes out — which both engines drive; the engines only
//     move bytes and keep time;
//   - record.ClassError (aliased here), the typed error by which an engine
//     or the conversation fixes an attempt's outcome class;
//   - Backlog and AnswerGate, the two bounds on what the engines delivered
//     and the coordinator has not handled: the soft one (the coordinator
//     dials no more) and the hard one (the engines read no more until it
//     is back at the soft one; Options.Backlog).
//
// It does no I/O. Pacing, caps and retries are the coordinator's.
package engine
