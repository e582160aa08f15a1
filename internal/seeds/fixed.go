package seeds

import (
	"bufio"
	"embed"
	"fmt"
	"strings"

	"github.com/nodesweep/nodesweep/codec"
)

// fixedFS holds fixed/NETWORK.txt, one canonical address per line. Only
// mainnet has a list (a subset of Bitcoin Core's contrib/seeds/nodes_main.txt).
//
//go:embed fixed/*.txt
var fixedFS embed.FS

// Fixed returns the fixed seeds embedded for network p (nil if none).
func Fixed(p codec.Params) []codec.Addr {
	addrs, err := parseFixed(p.Name)
	if err != nil {
		panic(err) // the embedded file is checked by the tests
	}
	return addrs
}

func parseFixed(network string) ([]codec.Addr, error) {
	b, err := fixedFS.ReadFile("fixed/" + network + ".txt")
	if err != nil {
		return nil, nil
	}
	var out []codec.Addr
	sc := bufio.NewScanner(strings.NewReader(string(b)))
	for n := 1; sc.Scan(); n++ {
		line := trimComment(sc.Text())
		if line == "" {
			continue
		}
		a, err := codec.ParseAddr(line)
		if err != nil {
			return nil, fmt.Errorf("fixed/%s.txt:%d: %w", network, n, err)
		}
		out = append(out, a)
	}
	return out, sc.Err()
}
