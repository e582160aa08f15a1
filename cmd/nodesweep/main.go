// Command nodesweep crawls the Bitcoin P2P network. Each subcommand lives in
// its own file and registers itself in init(); this file only dispatches.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"sort"
	"syscall"
)

// Version is nodesweep's version, sent in our user agent /nodesweep:VERSION/.
var Version = "0.1.0"

type subcommand struct {
	summary string
	run     func(ctx context.Context, args []string) error
}

var subcommands = map[string]subcommand{}

// register adds a subcommand; called from init() in the subcommand's file.
func register(name, summary string, run func(ctx context.Context, args []string) error) {
	subcommands[name] = subcommand{summary, run}
}

func usage() {
	fmt.Fprintf(os.Stderr, "nodesweep %s — a crawler of the Bitcoin P2P network\n\nusage: nodesweep COMMAND [flags]\n\ncommands:\n", Version)
	names := make([]string, 0, len(subcommands))
	for n := range subcommands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(os.Stderr, "  %-10s %s\n", n, subcommands[n].summary)
	}
	fmt.Fprintf(os.Stderr, "\n'nodesweep COMMAND -h' shows a command's flags.\n")
}

func main() {
	if len(os.Args) < 2 || os.Args[1] == "-h" || os.Args[1] == "--help" || os.Args[1] == "help" {
		usage()
		os.Exit(2)
	}
	if os.Args[1] == "version" || os.Args[1] == "--version" {
		fmt.Println("nodesweep", Version)
		return
	}
	sc, ok := subcommands[os.Args[1]]
	if !ok {
		fmt.Fprintf(os.Stderr, "nodesweep: unknown command %q\n\n", os.Args[1])
		usage()
		os.Exit(2)
	}
	ctx, stop := signalContext()
	defer stop()
	err := sc.run(ctx, os.Args[2:])
	switch {
	case err == nil:
	case errors.Is(err, flag.ErrHelp):
		os.Exit(2)
	default:
		fmt.Fprintf(os.Stderr, "nodesweep %s: %v\n", os.Args[1], err)
		os.Exit(1)
	}
}

// signalContext is cancelled by the first SIGINT/SIGTERM; a second one exits
// at once with status 130.
func signalContext() (context.Context, func()) {
	ctx, cancel := context.WithCancel(context.Background())
	ch := make(chan os.Signal, 2)
	signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-ch
		cancel()
		<-ch
		fmt.Fprintln(os.Stderr, "nodesweep: second signal, exiting now")
		os.Exit(130)
	}()
	return ctx, func() { signal.Stop(ch); cancel() }
}
