// Package export writes a crawl in the formats other tools read:
//
//   - bitnodes: the bitnodes.io snapshot layout ({"timestamp", "total_nodes",
//     "latest_height", "nodes": {"ADDR": [13 fields]}}), reachable nodes only;
//   - jsonl: one JSON object per line, one per reachable node (with All, one
//     per attempted address), every parsed version field;
//   - csv: the same columns as jsonl, with a header row.
//
// It reads crawls through internal/nodes (store APIs), never Badger. It does
// not look up geography itself: a Geo lookup may be passed in Options; without
// one the bitnodes geo fields are null.
package export
