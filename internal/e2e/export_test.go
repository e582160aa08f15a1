package e2e

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/nodesweep/nodesweep/bench/simnet"
	"github.com/nodesweep/nodesweep/internal/app"
	"github.com/nodesweep/nodesweep/internal/export"
	"github.com/nodesweep/nodesweep/internal/nodes"
	"github.com/nodesweep/nodesweep/store"
)

// TestExportsMatchTruth crawls a realistic network into the store, then
// exports it as bitnodes JSON and as JSONL and scores both with the
// simulator's verifier: what the crawler recorded is what the exports print,
// and that is the ground truth.
func TestExportsMatchTruth(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	n, err := simnet.Start(ctx, simnet.Config{Profile: simnet.ProfileRealistic, Nodes: 6000, Seed: 71})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	dir := t.TempDir()
	o := fastOptions()
	o.DB, o.Seeds, o.AllowNets = dir, seedsOf(n), []string{n.Config().Range.String()}
	if _, err := app.Crawl(ctx, o); err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(dir, store.WithReadOnly())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	info, err := nodes.Resolve(st, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []export.Format{export.Bitnodes, export.JSONL} {
		var buf bytes.Buffer
		if err := export.Write(&buf, st, info, f, export.Options{All: f == export.JSONL}); err != nil {
			t.Fatal(err)
		}
		exp, err := simnet.ReadExport(&buf)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		r := n.Score(exp)
		if r.Recall != 1 || r.Precision != 1 || len(r.Mismatches) != 0 || r.ForbiddenDials != 0 {
			t.Errorf("%s export vs truth:\n%s", f, r.String())
		}
		t.Logf("%s: recall %.4f precision %.4f (%d found, %d tolerated)", f, r.Recall, r.Precision, r.Found, r.Tolerated)
	}
	simClean(t, n)
}
