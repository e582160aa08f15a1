package enrich

import (
	"context"
	"errors"
	"testing"
)

func TestForCrawlSources(t *testing.T) {
	if eg, err := ForCrawl(context.Background(), nil, 0, Sources{}); eg != nil || err != nil {
		t.Fatalf("no sources: %v %v", eg, err)
	}
	if _, err := ForCrawl(context.Background(), nil, 0, Sources{City: "/nonexistent.mmdb"}); !errors.Is(err, ErrOpen) {
		t.Fatalf("missing database: %v", err)
	}
}
