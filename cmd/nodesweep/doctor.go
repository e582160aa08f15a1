package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"

	"github.com/nodesweep/nodesweep/tuning"
)

func init() {
	register("doctor", "check host limits (open files, ports, conntrack, memory) for a sweep", runDoctor)
}

func runDoctor(_ context.Context, args []string) error {
	fs := flag.NewFlagSet("doctor", flag.ContinueOnError)
	maxConns := fs.Int("max-conns", 0, "connections in flight to check for (0: the default nodesweep would pick on this host)")
	addresses := fs.Int("addresses", 0, "candidate addresses in the sweep, for the memory and conntrack estimates (0: unknown)")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: nodesweep doctor [--max-conns N] [--addresses N] [--json]\n\n"+
			"Prints each host limit a sweep depends on, its current value, what a full sweep of %d\n"+
			"connections and the requested size need, and the command fixing each shortfall.\n"+
			"Exits 1 if a sweep at the requested size would hit a limit.\n\n", tuning.FullSweepConns)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	if *maxConns < 0 || *addresses < 0 {
		return errors.New("--max-conns and --addresses must be >= 0")
	}
	snap, err := tuning.ReadSnapshot()
	if err != nil {
		return err
	}
	rep := tuning.Diagnose(snap, *maxConns, *addresses)
	if *asJSON {
		b, err := rep.JSON()
		if err != nil {
			return err
		}
		if _, err := fmt.Fprintf(os.Stdout, "%s\n", b); err != nil {
			return err
		}
	} else if err := rep.WriteText(os.Stdout); err != nil {
		return err
	}
	if !rep.OK {
		return fmt.Errorf("a sweep with --max-conns %d would hit a host limit (see above)", rep.MaxConns)
	}
	return nil
}
