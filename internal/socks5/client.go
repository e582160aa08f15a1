// Package socks5 is the client side of a SOCKS5 CONNECT (RFC 1928) with a
// domain-name target and no authentication — what Tor's SocksPort needs to
// reach a .onion service — as a pure state machine: bytes in, bytes out. The
// reactor drives it on its event loop, so a Tor connection costs no goroutine
// (golang.org/x/net/proxy blocks). It does no I/O and keeps no clock.
package socks5

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// ErrProxy is the class of every failure of the proxy handshake.
var ErrProxy = errors.New("socks5")

// ReplyError is a CONNECT refused by the proxy, with RFC 1928's reply code.
type ReplyError struct{ Code byte }

var replyText = map[byte]string{1: "general failure", 2: "not allowed by ruleset", 3: "network unreachable",
	4: "host unreachable", 5: "connection refused", 6: "TTL expired", 7: "command not supported",
	8: "address type not supported"}

func (e *ReplyError) Error() string {
	return fmt.Sprintf("%v: proxy replied %d (%s)", ErrProxy, e.Code, replyText[e.Code])
}
func (e *ReplyError) Unwrap() error { return ErrProxy }

type state uint8

const (
	waitMethod state = iota
	waitReply
	done
)

// Client is one CONNECT handshake.
type Client struct {
	host  string
	port  uint16
	state state
}

// NewClient prepares a CONNECT to host:port (host ≤ 255 bytes).
func NewClient(host string, port uint16) *Client { return &Client{host: host, port: port} }

// Greeting returns out with the method offer (no authentication) appended.
func (c *Client) Greeting(out []byte) []byte { return append(out, 5, 1, 0) }

// Done reports whether the tunnel is open: later bytes belong to the target.
func (c *Client) Done() bool { return c.state == done }

// Receive consumes proxy bytes; it returns how many it used (0: need more),
// out with any request appended, or an error (ErrProxy class).
func (c *Client) Receive(in, out []byte) (int, []byte, error) {
	switch c.state {
	case waitMethod:
		if len(in) < 2 {
			return 0, out, nil
		}
		if in[0] != 5 || in[1] != 0 {
			return 0, out, fmt.Errorf("%w: proxy wants method %d (version %d); we offer none", ErrProxy, in[1], in[0])
		}
		if len(c.host) > 255 {
			return 0, out, fmt.Errorf("%w: host name longer than 255 bytes", ErrProxy)
		}
		out = append(out, 5, 1, 0, 3, byte(len(c.host)))
		out = append(out, c.host...)
		out = binary.BigEndian.AppendUint16(out, c.port)
		c.state = waitReply
		n, out, err := c.Receive(in[2:], out)
		return 2 + n, out, err
	case waitReply:
		if len(in) < 5 {
			return 0, out, nil
		}
		if in[0] != 5 {
			return 0, out, fmt.Errorf("%w: reply version %d", ErrProxy, in[0])
		}
		if in[1] != 0 {
			return 0, out, &ReplyError{Code: in[1]}
		}
		var alen int
		switch in[3] {
		case 1:
			alen = 4
		case 4:
			alen = 16
		case 3:
			alen = 1 + int(in[4])
		default:
			return 0, out, fmt.Errorf("%w: reply address type %d", ErrProxy, in[3])
		}
		total := 4 + alen + 2
		if len(in) < total {
			return 0, out, nil
		}
		c.state = done
		return total, out, nil
	}
	return 0, out, nil
}
