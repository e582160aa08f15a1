// Package census is the read model the serving side answers from: one
// Snapshot per crawl round (timestamp, totals, the bitnodes node rows), and
// per address its history across rounds: status, up/down intervals,
// reliability over sipa's windows (2 h, 8 h, 1 d, 1 w, 30 d), latency
// samples, version changes and the outcome class of its last test.
//
// It is built from the store (Load, at start-up) and updated as each round
// finishes (Tap wraps a round's sink and Apply folds the round in), so the
// same Observation feeds both. Memory is bounded: at most MaxNodes
// addresses, MaxRounds round summaries, node rows for the newest
// KeepSnapshots rounds, and fixed-size rings per node.
//
// It does no I/O of its own beyond reading the store in Load; the API, the
// dashboard and the DNS seeder read it through the Reader interface.
package census
