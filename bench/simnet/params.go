package simnet

// Params names a network the simulator speaks for: the magic bytes of its
// messages and the default port of its gossiped onion and CJDNS addresses.
// The fields are those of the crawler's codec.Params, so one converts to the
// other; the values are Bitcoin Core's (chainparams.cpp), written out here.
type Params struct {
	Name        string
	Magic       [4]byte // as the bytes appear on the wire
	DefaultPort uint16
}

// The networks a simulated network can be.
var (
	Mainnet  = Params{Name: "mainnet", Magic: [4]byte{0xf9, 0xbe, 0xb4, 0xd9}, DefaultPort: 8333}
	Testnet3 = Params{Name: "testnet3", Magic: [4]byte{0x0b, 0x11, 0x09, 0x07}, DefaultPort: 18333}
	Testnet4 = Params{Name: "testnet4", Magic: [4]byte{0x1c, 0x16, 0x3f, 0x28}, DefaultPort: 48333}
	Signet   = Params{Name: "signet", Magic: [4]byte{0x0a, 0x03, 0xcf, 0x40}, DefaultPort: 38333}
	Regtest  = Params{Name: "regtest", Magic: [4]byte{0xfa, 0xbf, 0xb5, 0xda}, DefaultPort: 18444}
)

// knownMagic reports whether m is the magic of one of the networks above.
func knownMagic(m [4]byte) bool {
	for _, p := range []Params{Mainnet, Testnet3, Testnet4, Signet, Regtest} {
		if p.Magic == m {
			return true
		}
	}
	return false
}
