package harness

// v2Scenario is S8: the cost of BIP324 on S1's healthy network, every node
// speaking v2, crawled over v1 and over v2 in one run (variants alternate),
// so that handshakes per CPU-second compare directly.
func v2Scenario(quick bool, runs int) *Scenario {
	sim := SimSpec{Profile: "healthy", Nodes: size(quick, 20_000, 5_000), Seed: simSeed,
		Extra: []string{"--v2-share", "1"}}
	return &Scenario{ID: "S8", Group: "S8", Title: "S8 BIP324 cost: S1 with every node speaking v2, crawled over v1 and over v2 (gnet)",
		Sim: sim, Expect: []string{"reachable"}, MaxConns: size(quick, 5000, 2000),
		Common: []string{"--dial-rate", "-1", "--getaddr-wait", "1s"},
		Variants: []Variant{
			{Label: "gnet v1", Args: []string{"--engine", "gnet", "--transport", "v1"}},
			{Label: "gnet v2", Args: []string{"--engine", "gnet", "--transport", "v2-only"}},
		}, Runs: runs}
}
