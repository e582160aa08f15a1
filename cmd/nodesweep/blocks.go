package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"slices"
	"text/tabwriter"
	"time"

	"github.com/btcsuite/btcd/chainhash/v2"

	"github.com/nodesweep/nodesweep/internal/census"
	"github.com/nodesweep/nodesweep/store"
)

func init() {
	register("blocks", "list the block propagation a watch --hold recorded (each block's first arrival and delays)", runBlocks)
}

func runBlocks(_ context.Context, args []string) error {
	fs := flag.NewFlagSet("blocks", flag.ContinueOnError)
	db := fs.String("db", defaultDB, "database directory")
	hash := fs.String("hash", "", "one block (hex, display order): every held node's delay, in arrival order")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	var want *chainhash.Hash
	if *hash != "" {
		h, err := chainhash.NewHashFromStr(*hash)
		if err != nil || len(*hash) != 2*chainhash.HashSize {
			return fmt.Errorf("--hash %q: want a 64-digit hex block hash", *hash)
		}
		want = h
	}
	s, err := openDB(*db)
	if err != nil {
		return err
	}
	defer s.Close()
	var list []store.Block
	if err := s.EachBlock(func(b *store.Block) error {
		if want == nil || chainhash.Hash(b.Hash) == *want {
			list = append(list, *b)
		}
		return nil
	}); err != nil {
		return err
	}
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	if want != nil {
		if len(list) == 0 {
			return fmt.Errorf("block %s: %w", *hash, store.ErrNotFound)
		}
		fmt.Fprintln(tw, "node\tdelay (ms)\t")
		for _, a := range list[0].Arrivals {
			fmt.Fprintf(tw, "%s\t%.3f\t\n", a.Addr, millis(a.Delay))
		}
		return tw.Flush()
	}
	slices.SortFunc(list, func(a, b store.Block) int { return b.First.Compare(a.First) }) // newest first
	fmt.Fprintln(tw, "height\thash\tfirst seen (UTC)\tnodes\tp50 ms\tp90 ms\tp99 ms\tmax ms\tfirst announcer\t")
	for _, b := range list {
		sum := census.SummarizeBlock(b)
		height := "-"
		if sum.Height >= 0 {
			height = fmt.Sprint(sum.Height)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%.1f\t%.1f\t%.1f\t%.1f\t%s\t\n", height, chainhash.Hash(sum.Hash), sum.First.UTC().Format(time.DateTime+".000"),
			sum.Nodes, millis(sum.P50), millis(sum.P90), millis(sum.P99), millis(sum.Max), sum.Announcer)
	}
	if len(list) == 0 {
		fmt.Fprintln(os.Stderr, "no blocks in", *db, "(a watch --hold records them)")
	}
	return tw.Flush()
}

func millis(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
