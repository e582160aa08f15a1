package socks5

import (
	"bytes"
	"errors"
	"testing"
)

func TestConnectDomain(t *testing.T) {
	c := NewClient("abc.onion", 8333)
	if got := c.Greeting(nil); !bytes.Equal(got, []byte{5, 1, 0}) {
		t.Fatalf("greeting %x", got)
	}
	// Method reply and CONNECT reply (IPv4 bound address) and 3 bytes of the target, in one read.
	in := []byte{5, 0, 5, 0, 0, 1, 127, 0, 0, 1, 0x20, 0x8d, 'x', 'y', 'z'}
	n, out, err := c.Receive(in, nil)
	if err != nil || n != 12 || !c.Done() {
		t.Fatalf("n=%d err=%v done=%v", n, err, c.Done())
	}
	want := append([]byte{5, 1, 0, 3, 9}, "abc.onion"...)
	want = append(want, 0x20, 0x8d)
	if !bytes.Equal(out, want) {
		t.Fatalf("request %x want %x", out, want)
	}
}

func TestSplitAtEveryOffset(t *testing.T) {
	stream := []byte{5, 0, 5, 0, 0, 3, 4, 'h', 'o', 's', 't', 0, 80}
	for cut := 0; cut <= len(stream); cut++ {
		c := NewClient("h.onion", 1)
		n1, _, err := c.Receive(stream[:cut], nil)
		if err != nil {
			t.Fatal(err)
		}
		n2, _, err := c.Receive(stream[n1:], nil)
		if err != nil || n1+n2 != len(stream) || !c.Done() {
			t.Fatalf("cut %d: n1=%d n2=%d err=%v done=%v", cut, n1, n2, err, c.Done())
		}
	}
}

func TestRefused(t *testing.T) {
	c := NewClient("h.onion", 1)
	_, _, err := c.Receive([]byte{5, 0, 5, 4, 0, 1, 0, 0, 0, 0, 0, 0}, nil)
	var re *ReplyError
	if !errors.As(err, &re) || re.Code != 4 || !errors.Is(err, ErrProxy) {
		t.Fatalf("err %v", err)
	}
	c = NewClient("h.onion", 1)
	if _, _, err := c.Receive([]byte{5, 0xff}, nil); !errors.Is(err, ErrProxy) {
		t.Fatalf("no-method err %v", err)
	}
}

// FuzzReceive: whatever a proxy answers, in whatever chunks, the client never
// consumes more than it was given, never panics, and either opens the tunnel,
// fails with an ErrProxy-class error, or waits for more.
func FuzzReceive(f *testing.F) {
	f.Add([]byte{5, 0, 5, 0, 0, 1, 127, 0, 0, 1, 0x20, 0x8d}, uint8(3))
	f.Add([]byte{5, 0, 5, 0, 0, 3, 4, 'h', 'o', 's', 't', 0, 80}, uint8(1))
	f.Add([]byte{5, 0, 5, 1, 0, 4}, uint8(5))
	f.Add([]byte{5, 0xff}, uint8(2))
	f.Fuzz(func(t *testing.T, in []byte, chunk uint8) {
		c := NewClient("abcdef.onion", 8333)
		step := int(chunk%16) + 1
		var buf []byte
		for len(in) > 0 && !c.Done() {
			n := min(step, len(in))
			buf = append(buf, in[:n]...)
			in = in[n:]
			used, _, err := c.Receive(buf, nil)
			if used < 0 || used > len(buf) {
				t.Fatalf("consumed %d of %d", used, len(buf))
			}
			if err != nil {
				if !errors.Is(err, ErrProxy) {
					t.Fatalf("error of no class: %v", err)
				}
				return
			}
			buf = buf[used:]
		}
	})
}
