package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"text/tabwriter"
	"time"

	"github.com/nodesweep/nodesweep/internal/record"
	"github.com/nodesweep/nodesweep/internal/report"
	"github.com/nodesweep/nodesweep/internal/watch"
)

func init() {
	register("crawls", "list the crawls in a database with their counts", runCrawls)
}

func runCrawls(_ context.Context, args []string) error {
	fs := flag.NewFlagSet("crawls", flag.ContinueOnError)
	db := fs.String("db", defaultDB, "database directory")
	if err := fs.Parse(args); err != nil {
		return err
	}
	s, err := openDB(*db)
	if err != nil {
		return err
	}
	defer s.Close()
	list, err := s.Crawls()
	if err != nil {
		return err
	}
	// A watch's interval has the summary it published: its tip.
	tips := map[record.CrawlID]int32{}
	if err := s.EachSnapshot(func(id record.CrawlID, v []byte) error {
		if snap, ok := watch.DecodeSnapshot(id, v); ok {
			tips[id] = snap.LatestHeight
		}
		return nil
	}); err != nil {
		return err
	}
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "id\tnetwork\tstart (UTC)\tduration\tstate\tlearned\tdialled\tattempts\treachable\taddr msgs\twatch tip\t")
	for _, c := range list {
		state, dur := "finished", report.Duration(c.End.Sub(c.Start))
		if !c.Finished {
			state, dur = "unfinished", "-"
		}
		tip := "-"
		if h, ok := tips[c.ID]; ok {
			tip = fmt.Sprint(h)
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%d\t%d\t%d\t%d\t%d\t%s\t\n", c.ID, c.Network, c.Start.UTC().Format(time.DateTime),
			dur, state, c.Seen, c.Dialled, c.Attempts, c.Reachable, c.AddrMsgs, tip)
	}
	if len(list) == 0 {
		fmt.Fprintln(os.Stderr, "no crawls in", *db)
	}
	return tw.Flush()
}
