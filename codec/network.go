package codec

import (
	"fmt"
	"strings"
)

// Params are the constants that tell one Bitcoin network from another on the
// wire: the 4 magic bytes that start every message and the default P2P port.
type Params struct {
	Name        string
	Magic       [4]byte // as the bytes appear on the wire
	DefaultPort uint16
}

// The networks nodesweep knows (Bitcoin Core chainparams.cpp).
var (
	Mainnet  = Params{Name: "mainnet", Magic: [4]byte{0xf9, 0xbe, 0xb4, 0xd9}, DefaultPort: 8333}
	Testnet3 = Params{Name: "testnet3", Magic: [4]byte{0x0b, 0x11, 0x09, 0x07}, DefaultPort: 18333}
	Testnet4 = Params{Name: "testnet4", Magic: [4]byte{0x1c, 0x16, 0x3f, 0x28}, DefaultPort: 48333}
	Signet   = Params{Name: "signet", Magic: [4]byte{0x0a, 0x03, 0xcf, 0x40}, DefaultPort: 38333}
	Regtest  = Params{Name: "regtest", Magic: [4]byte{0xfa, 0xbf, 0xb5, 0xda}, DefaultPort: 18444}
)

// AllParams lists every known network, mainnet first.
var AllParams = []Params{Mainnet, Testnet3, Testnet4, Signet, Regtest}

// ParamsByName returns the network called name ("mainnet", "testnet3",
// "testnet4", "signet", "regtest"; "testnet" means testnet3).
func ParamsByName(name string) (Params, error) {
	n := strings.ToLower(strings.TrimSpace(name))
	if n == "testnet" {
		n = "testnet3"
	}
	for _, p := range AllParams {
		if p.Name == n {
			return p, nil
		}
	}
	return Params{}, fmt.Errorf("codec: unknown network %q (want mainnet, testnet3, testnet4, signet or regtest)", name)
}
