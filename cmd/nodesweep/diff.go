package main

import (
	"context"
	"flag"
	"fmt"
	"os"

	"github.com/nodesweep/nodesweep/internal/nodes"
	"github.com/nodesweep/nodesweep/internal/record"
	"github.com/nodesweep/nodesweep/internal/report"
)

func init() {
	register("diff", "churn between two crawls: appeared, disappeared, upgraded, height changed", runDiff)
}

func runDiff(_ context.Context, args []string) error {
	fs := flag.NewFlagSet("diff", flag.ContinueOnError)
	db := fs.String("db", defaultDB, "database directory")
	limit := fs.Int("limit", 50, "lines per list (0: all)")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: nodesweep diff [--db DIR] [--limit N] CRAWL_A CRAWL_B")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 2 {
		fs.Usage()
		return flag.ErrHelp
	}
	var ids [2]record.CrawlID
	for i := range ids {
		id, err := record.ParseCrawlID(fs.Arg(i))
		if err != nil {
			return err
		}
		ids[i] = id
	}
	s, err := openDB(*db)
	if err != nil {
		return err
	}
	defer s.Close()
	a, err := nodes.Resolve(s, ids[0])
	if err != nil {
		return err
	}
	b, err := nodes.Resolve(s, ids[1])
	if err != nil {
		return err
	}
	d, err := report.Diff(s, a, b)
	if err != nil {
		return err
	}
	return d.WriteText(os.Stdout, *limit)
}
