package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/nodesweep/nodesweep/internal/enrich"
	"github.com/nodesweep/nodesweep/internal/export"
	"github.com/nodesweep/nodesweep/internal/nodes"
	"github.com/nodesweep/nodesweep/internal/record"
	"github.com/nodesweep/nodesweep/store"
)

func init() {
	register("export", "write a crawl as bitnodes JSON, CSV or JSON lines", runExport)
}

// defaultDB is the database directory of every subcommand (--db).
const defaultDB = "./nodesweep-data"

// crawlFlag parses --crawl (0, the default, means the newest crawl).
type crawlFlag struct{ id record.CrawlID }

func (c *crawlFlag) String() string {
	if c.id == 0 {
		return "newest"
	}
	return c.id.String()
}

func (c *crawlFlag) Set(s string) error {
	id, err := record.ParseCrawlID(s)
	c.id = id
	return err
}

// openCrawl opens the database for reading and resolves crawl id (0: the newest).
func openCrawl(dir string, id record.CrawlID) (store.ReadCloser, store.CrawlInfo, error) {
	s, err := openDB(dir)
	if err != nil {
		return nil, store.CrawlInfo{}, err
	}
	info, err := nodes.Resolve(s, id)
	if err != nil {
		s.Close()
		return nil, store.CrawlInfo{}, err
	}
	return s, info, nil
}

// openDB opens the database for reading: read-only, or through the crawl
// or watch that has it open (store.OpenReader).
func openDB(dir string) (store.ReadCloser, error) {
	if _, err := os.Stat(dir); err != nil {
		return nil, fmt.Errorf("database %s: %w", dir, err)
	}
	s, err := store.OpenReader(dir)
	if errors.Is(err, store.ErrLocked) {
		return nil, fmt.Errorf("%w (a process has it open and does not answer reads: wait for it to finish)", err)
	}
	return s, err
}

func runExport(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("export", flag.ContinueOnError)
	db := fs.String("db", defaultDB, "database directory")
	var crawl crawlFlag
	fs.Var(&crawl, "crawl", "crawl id (default: the newest crawl)")
	format := fs.String("format", "bitnodes", "bitnodes, csv or jsonl")
	all := fs.Bool("all", false, "csv/jsonl: add addresses that never completed the handshake, with their class")
	out := fs.String("out", "", "output file (default: standard output)")
	geoip := fs.String("geoip", "", "MaxMind/DB-IP City .mmdb: fill city, country, coordinates, timezone")
	asn := fs.String("asn", "", "MaxMind/DB-IP ASN .mmdb: fill asn and organization (onion: TOR)")
	rdns := fs.Bool("rdns", false, "reverse-resolve reachable nodes for the hostname field (32 at a time)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	f, err := export.ParseFormat(*format)
	if err != nil {
		return err
	}
	s, info, err := openCrawl(*db, crawl.id)
	if err != nil {
		return err
	}
	defer s.Close()
	var w io.Writer = os.Stdout
	var file *os.File
	if *out != "" {
		if file, err = os.Create(*out); err != nil {
			return err
		}
		w = file
	}
	geo, closeGeo, err := exportGeo(ctx, s, info, *geoip, *asn, *rdns)
	if err != nil {
		return err
	}
	defer closeGeo()
	err = export.Write(w, s, info, f, export.Options{All: *all, Geo: geo})
	if file != nil {
		err = errors.Join(err, file.Close())
	}
	return err
}

// exportGeo opens the enrichment sources the flags name (nil when none).
func exportGeo(ctx context.Context, s store.Reader, info store.CrawlInfo, city, asn string, rdns bool) (export.Geo, func(), error) {
	eg, err := enrich.ForCrawl(ctx, s, info.ID, enrich.Sources{City: city, ASN: asn, ReverseDNS: rdns})
	if err != nil || eg == nil {
		return nil, func() {}, err
	}
	return eg, eg.Close, nil
}
