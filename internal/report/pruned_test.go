package report

import (
	"errors"
	"testing"
	"time"

	"github.com/nodesweep/nodesweep/internal/record"
	"github.com/nodesweep/nodesweep/store"
)

// pruneAfterSeen is a real store whose retention deletes every crawl right
// after a reader's EachSeen: a prune that falls between a report's reads.
type pruneAfterSeen struct {
	*store.Store
	now time.Time
}

func (p pruneAfterSeen) EachSeen(id record.CrawlID, fn func(store.Sighting) error) error {
	if err := p.Store.EachSeen(id, fn); err != nil {
		return err
	}
	_, err := p.Prune(p.now)
	return err
}

// A report of a crawl pruned between its reads fails with ErrPruned rather
// than counting the seen addresses of a crawl whose attempts it then found
// gone.
func TestComputePrunedMeanwhile(t *testing.T) {
	st, err := store.Open(t.TempDir(), store.WithRetention(time.Hour), store.WithMaintenance(0))
	check(t, err)
	defer st.Close()
	info, _ := crawlFixture(t, st, 1, 200, nil)
	if _, err := Compute(st, info); err != nil {
		t.Fatal(err)
	}
	_, err = Compute(pruneAfterSeen{st, info.End.Add(2 * time.Hour)}, info)
	if !errors.Is(err, store.ErrPruned) {
		t.Fatalf("report of a crawl pruned between its reads: %v, want ErrPruned", err)
	}
	if _, err := st.Crawl(info.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("the crawl was not pruned: %v", err)
	}
}
