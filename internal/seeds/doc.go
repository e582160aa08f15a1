// Package seeds turns what a user gives a crawl to start from into addresses,
// and knows where a crawl starts when it is given nothing.
//
// Sources, in the order a crawl uses them:
//
//   - explicit seeds: an IP, .onion or .b32.i2p with an optional port, or a
//     DNS name resolved for A and AAAA (Parse);
//   - a seeds file: one seed per line ('#' comments), or a bitnodes snapshot
//     JSON ({"timestamp":…,"nodes":{"ADDR":[…]}}), told apart by content
//     (ReadFile, ParseBitnodes);
//   - an earlier crawl's reachable nodes (FromCrawl, over the store's
//     EachAttempted);
//   - the default bootstrap, used when none of the above is given: the
//     network's DNS seeds (Bitcoin Core's chainparams.cpp) resolved for A and
//     AAAA through a Resolver (NewResolver: the system's, or one DNS server),
//     falling back to the fixed seeds embedded in the binary (Fixed) when DNS
//     gives nothing (Default).
//
// Errors wrap the sentinels ErrBadSeed, ErrBadSnapshot and ErrNoSeeds.
package seeds
