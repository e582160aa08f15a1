package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"text/tabwriter"
	"time"

	"github.com/nodesweep/nodesweep/internal/report"
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
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "id\tnetwork\tstart (UTC)\tduration\tstate\tlearned\tdialled\tattempts\treachable\taddr msgs\t")
	for _, c := range list {
		state, dur := "finished", report.Duration(c.End.Sub(c.Start))
		if !c.Finished {
			state, dur = "unfinished", "-"
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%d\t%d\t%d\t%d\t%d\t\n", c.ID, c.Network, c.Start.UTC().Format(time.DateTime),
			dur, state, c.Seen, c.Dialled, c.Attempts, c.Reachable, c.AddrMsgs)
	}
	if len(list) == 0 {
		fmt.Fprintln(os.Stderr, "no crawls in", *db)
	}
	return tw.Flush()
}
