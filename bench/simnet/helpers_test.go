package simnet

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"github.com/btcsuite/btcd/wire/v2"
)

// startNet starts a network for one test and closes it at cleanup.
func startNet(t testing.TB, cfg Config) *Network {
	t.Helper()
	n, err := Start(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Close() })
	return n
}

// findIdentity returns the first identity of class c satisfying ok (nil = any).
func findIdentity(t testing.TB, n *Network, c Class, ok func(Identity) bool) Identity {
	t.Helper()
	for i := 0; i < n.Size(); i++ {
		id := n.Identity(i)
		if id.Class == c && (ok == nil || ok(id)) {
			return id
		}
	}
	t.Fatalf("no identity of class %s", c)
	return Identity{}
}

func btcnet(n *Network) wire.BitcoinNet {
	m := n.Config().Network.Magic
	return wire.BitcoinNet(binary.LittleEndian.Uint32(m[:]))
}

func dialAddr(t testing.TB, a Addr, timeout time.Duration) (net.Conn, error) {
	t.Helper()
	ap, ok := a.AddrPort()
	if !ok {
		t.Fatalf("%s is not an IP address", a)
	}
	return net.DialTimeout("tcp4", ap.String(), timeout)
}

// wireClient is a minimal crawler built on btcd wire: an independent
// implementation of the protocol to check the simulator against.
type wireClient struct {
	t   testing.TB
	c   net.Conn
	net wire.BitcoinNet
}

func (w *wireClient) send(msg wire.Message) {
	w.t.Helper()
	w.c.SetWriteDeadline(time.Now().Add(5 * time.Second))
	if _, err := wire.WriteMessageN(w.c, msg, wire.ProtocolVersion, w.net); err != nil {
		w.t.Fatalf("send %s: %v", msg.Command(), err)
	}
}

// next reads the next message btcd wire knows, skipping unknown ones.
func (w *wireClient) next(timeout time.Duration) (wire.Message, error) {
	w.c.SetReadDeadline(time.Now().Add(timeout))
	for {
		_, msg, _, err := wire.ReadMessageN(w.c, wire.ProtocolVersion, w.net)
		if errors.Is(err, wire.ErrUnknownMessage) {
			continue
		}
		return msg, err
	}
}

func ourVersion(t testing.TB) *wire.MsgVersion {
	me := wire.NewNetAddressIPPort(net.IPv4(127, 0, 0, 1), 0, 0)
	you := wire.NewNetAddressIPPort(net.IPv4(127, 0, 0, 1), 0, 0)
	v := wire.NewMsgVersion(me, you, 42, 0)
	v.UserAgent = "/simnet-test:0.1/"
	return v
}

// handshake sends version (+sendaddrv2) + verack + getaddr and collects
// what comes back until an addr/addrv2 or the timeout.
type handshakeResult struct {
	version  *wire.MsgVersion
	verack   bool
	addrV1   *wire.MsgAddr
	addrV2   *wire.MsgAddrV2
	commands []string
}

func (w *wireClient) crawl(sendV2 bool, timeout time.Duration) (handshakeResult, error) {
	w.t.Helper()
	var r handshakeResult
	w.send(ourVersion(w.t))
	if sendV2 {
		w.send(wire.NewMsgSendAddrV2())
	}
	w.send(wire.NewMsgVerAck())
	w.send(wire.NewMsgGetAddr())
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		msg, err := w.next(time.Until(deadline))
		if err != nil {
			return r, err
		}
		r.commands = append(r.commands, msg.Command())
		switch m := msg.(type) {
		case *wire.MsgVersion:
			r.version = m
		case *wire.MsgVerAck:
			r.verack = true
		case *wire.MsgAddr:
			r.addrV1 = m
			return r, nil
		case *wire.MsgAddrV2:
			r.addrV2 = m
			return r, nil
		case *wire.MsgPing:
			w.send(wire.NewMsgPong(m.Nonce))
		}
	}
	return r, io.ErrNoProgress
}

// readRaw reads what arrives within d (at most max bytes).
func readRaw(c net.Conn, d time.Duration, max int) ([]byte, error) {
	c.SetReadDeadline(time.Now().Add(d))
	var buf bytes.Buffer
	_, err := io.Copy(&buf, io.LimitReader(c, int64(max)))
	return buf.Bytes(), err
}

// sendRawVersion sends a version from a wire client, for class tests.
func sendRawVersion(t testing.TB, n *Network, c net.Conn) {
	t.Helper()
	w := &wireClient{t: t, c: c, net: btcnet(n)}
	w.send(ourVersion(t))
}
