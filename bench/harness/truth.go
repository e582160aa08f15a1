package harness

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
)

// TruthInfo is what the harness needs from the simulator's ground truth.
type TruthInfo struct {
	Network string
	Range   string
	Seeds   []string
	Counts  map[string]int // addresses per class
	ByClass map[string][]string
}

// Expected is the number of addresses of the given classes.
func (t *TruthInfo) Expected(classes []string) int {
	n := 0
	for _, c := range classes {
		n += t.Counts[c]
	}
	return n
}

// Addrs lists the addresses of the given classes.
func (t *TruthInfo) Addrs(classes []string) []string {
	var out []string
	for _, c := range classes {
		out = append(out, t.ByClass[c]...)
	}
	return out
}

// keepAddrs: classes whose addresses are kept (the floor dials them).
var keepAddrs = map[string]bool{"reachable": true, "slow": true}

// ReadTruth reads a truth file ({"network","range","seeds","nodes":[...]}).
func ReadTruth(path string) (*TruthInfo, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var raw struct {
		Network string   `json:"network"`
		Range   string   `json:"range"`
		Seeds   []string `json:"seeds"`
		Nodes   []struct {
			Addr  string `json:"addr"`
			Class string `json:"class"`
		} `json:"nodes"`
	}
	if err := json.NewDecoder(bufio.NewReaderSize(f, 256<<10)).Decode(&raw); err != nil {
		return nil, fmt.Errorf("truth %s: %w", path, err)
	}
	t := &TruthInfo{Network: raw.Network, Range: raw.Range, Seeds: raw.Seeds,
		Counts: map[string]int{}, ByClass: map[string][]string{}}
	for _, n := range raw.Nodes {
		t.Counts[n.Class]++
		if keepAddrs[n.Class] {
			t.ByClass[n.Class] = append(t.ByClass[n.Class], n.Addr)
		}
	}
	if len(t.Seeds) == 0 {
		return nil, fmt.Errorf("truth %s: no seeds", path)
	}
	return t, nil
}
