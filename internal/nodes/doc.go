// Package nodes turns a crawl's attempts, as the store keeps them, into one
// Node per address: the attempt that counts (the first that completed the
// handshake, otherwise the last), how many tries it took, and the decoded
// service flags. Exports, reports and diffs read crawls through it so that
// they agree on what "reachable" and "the node's version" mean.
//
// It reads through store.Reader (the one interface every reader of a
// database uses) and never touches Badger. It does not format anything.
package nodes
