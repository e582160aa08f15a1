package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"

	"github.com/nodesweep/nodesweep/internal/report"
)

func init() {
	register("report", "summarise a crawl in the terminal, and as an HTML page with charts", runReport)
}

func runReport(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("report", flag.ContinueOnError)
	db := fs.String("db", defaultDB, "database directory")
	var crawl crawlFlag
	fs.Var(&crawl, "crawl", "crawl id (default: the newest crawl)")
	htmlOut := fs.String("html", "", "also write a self-contained HTML report with charts to this file")
	geoip := fs.String("geoip", "", "MaxMind/DB-IP City .mmdb: count reachable nodes by country")
	asn := fs.String("asn", "", "MaxMind/DB-IP ASN .mmdb: count reachable nodes by autonomous system")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	s, info, err := openCrawl(*db, crawl.id)
	if err != nil {
		return err
	}
	defer s.Close()
	geo, closeGeo, err := exportGeo(ctx, s, info, *geoip, *asn, false)
	if err != nil {
		return err
	}
	defer closeGeo()
	st, err := report.ComputeGeo(s, info, geo)
	if err != nil {
		return err
	}
	if err := report.Text(os.Stdout, st); err != nil {
		return err
	}
	if *htmlOut == "" {
		return nil
	}
	f, err := os.Create(*htmlOut)
	if err != nil {
		return err
	}
	return errors.Join(report.HTML(f, st), f.Close())
}
