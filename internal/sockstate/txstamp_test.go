package sockstate

import (
	"net"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// tcpPair returns a connected loopback TCP socket (a raw fd, non-blocking)
// and the peer's end.
func tcpPair(t *testing.T, network, host string) (int, net.Conn) {
	t.Helper()
	ln, err := net.Listen(network, host+":0")
	if err != nil {
		t.Skipf("no %s loopback: %v", network, err)
	}
	defer ln.Close()
	c, err := net.Dial(network, ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	peer, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close(); peer.Close() })
	f, err := c.(*net.TCPConn).File() // a dup, blocking: set non-blocking for the reads below
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	fd := int(f.Fd())
	if err := unix.SetNonblock(fd, true); err != nil {
		t.Fatal(err)
	}
	return fd, peer
}

// recvTx reads the error queue: ok false when it is empty.
func recvTx(t *testing.T, fd int) (TxStamp, bool) {
	t.Helper()
	oob := make([]byte, TxOOB)
	_, oobn, _, _, err := unix.Recvmsg(fd, nil, oob, unix.MSG_ERRQUEUE|unix.MSG_DONTWAIT)
	if err == unix.EAGAIN {
		return TxStamp{}, false
	}
	if err != nil {
		t.Fatal(err)
	}
	st, ok := ParseTx(oob[:oobn])
	if !ok {
		t.Fatalf("an error-queue message that is not a transmit stamp: % x", oob[:oobn])
	}
	return st, true
}

// TestTxStampOfAPing: on loopback (IPv4 and IPv6), a write that carries
// TxCmsg is stamped when it leaves, numbered by its last byte; writes
// without it are not stamped, and count in the numbering.
func TestTxStampOfAPing(t *testing.T) {
	for _, tc := range []struct{ network, host string }{{"tcp4", "127.0.0.1"}, {"tcp6", "[::1]"}} {
		t.Run(tc.network, func(t *testing.T) {
			fd, peer := tcpPair(t, tc.network, tc.host)
			if err := EnableTx(fd); err != nil {
				t.Fatal(err)
			}
			var track TxTrack
			track.On = true
			plain := make([]byte, 100)
			n, err := unix.Write(fd, plain)
			if err != nil || n != len(plain) {
				t.Fatal(n, err)
			}
			track.Wrote(n, false)
			if _, ok := recvTx(t, fd); ok {
				t.Fatal("a write that did not ask was stamped")
			}
			ping := make([]byte, 32)
			before := time.Now()
			n, err = unix.SendmsgN(fd, ping, TxCmsg, nil, unix.MSG_DONTWAIT)
			after := time.Now()
			if err != nil || n != len(ping) {
				t.Fatal(n, err)
			}
			track.Wrote(n, true)
			st, ok := recvTx(t, fd)
			if !ok {
				t.Fatal("no transmit stamp on the error queue right after the write (loopback stamps within it)")
			}
			if st.Key != uint32(len(plain)+len(ping)-1) {
				t.Fatalf("stamped byte %d, want the ping's last, %d", st.Key, len(plain)+len(ping)-1)
			}
			at, ok := track.Take(time.Now(), st)
			if !ok || at.Before(before) || at.After(after) {
				t.Fatalf("stamp %v after the clock before the write (the write took %v), ok %v", at.Sub(before), after.Sub(before), ok)
			}
			if _, ok := track.Take(time.Now(), st); ok {
				t.Fatal("one ping's stamp taken twice")
			}
			if _, ok := recvTx(t, fd); ok {
				t.Fatal("a second message on the error queue")
			}
			buf := make([]byte, 256)
			if _, err := peer.Read(buf); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestTxTrackMatchesOnlyItsPing: a stamp of another byte (a ping the socket
// took only in part is stamped on the last byte it took) is not the ping's.
func TestTxTrackMatchesOnlyItsPing(t *testing.T) {
	var tr TxTrack
	tr.Wrote(10, false)
	tr.Wrote(5, false) // a ping taken in part: no stamp awaited
	if tr.Waiting() {
		t.Fatal("waiting after a plain write")
	}
	now := time.Now()
	ts := unix.NsecToTimespec(now.Add(-time.Millisecond).UnixNano())
	if _, ok := tr.Take(now, TxStamp{Key: 14, At: ts}); ok {
		t.Fatal("took a stamp while none was awaited")
	}
	tr.Wrote(32, true)
	if _, ok := tr.Take(now, TxStamp{Key: 14, At: ts}); ok {
		t.Fatal("took the stamp of an earlier byte")
	}
	at, ok := tr.Take(now, TxStamp{Key: 46, At: ts})
	if !ok || now.Sub(at) != time.Millisecond {
		t.Fatalf("the ping's stamp: %v %v", now.Sub(at), ok)
	}
	tr = TxTrack{wrote: ^uint32(0) - 1} // the numbers wrap as the kernel's
	tr.Wrote(4, true)
	if _, ok := tr.Take(now, TxStamp{Key: 1, At: ts}); !ok {
		t.Fatal("no match across the wrap")
	}
}

// txMessage builds an error-queue message as the kernel does for IPv4: an
// SCM_TIMESTAMPING then an IP_RECVERR.
func txMessage(key uint32, at time.Time) []byte {
	var tss [3]unix.Timespec
	tss[0] = unix.NsecToTimespec(at.UnixNano())
	ee := unix.SockExtendedErr{Errno: uint32(unix.ENOMSG), Origin: unix.SO_EE_ORIGIN_TIMESTAMPING, Info: unix.SCM_TSTAMP_SND, Data: key}
	b := make([]byte, unix.CmsgSpace(int(unsafe.Sizeof(tss)))+unix.CmsgSpace(int(unsafe.Sizeof(ee))+16))
	h := (*unix.Cmsghdr)(unsafe.Pointer(&b[0]))
	h.Level, h.Type = unix.SOL_SOCKET, unix.SCM_TIMESTAMPING
	h.SetLen(unix.CmsgLen(int(unsafe.Sizeof(tss))))
	*(*[3]unix.Timespec)(unsafe.Pointer(&b[unix.CmsgLen(0)])) = tss
	o := unix.CmsgSpace(int(unsafe.Sizeof(tss)))
	h = (*unix.Cmsghdr)(unsafe.Pointer(&b[o]))
	h.Level, h.Type = unix.SOL_IP, unix.IP_RECVERR
	h.SetLen(unix.CmsgLen(int(unsafe.Sizeof(ee)) + 16))
	*(*unix.SockExtendedErr)(unsafe.Pointer(&b[o+unix.CmsgLen(0)])) = ee
	return b
}

// TestParseTxRejects: another error, a scheduler stamp, no software stamp,
// or a message cut short is not a transmit stamp.
func TestParseTxRejects(t *testing.T) {
	now := time.Now()
	good := txMessage(7, now)
	if st, ok := ParseTx(good); !ok || st.Key != 7 || st.At != unix.NsecToTimespec(now.UnixNano()) {
		t.Fatalf("the kernel's layout: %+v %v", st, ok)
	}
	eeAt := unix.CmsgSpace(48) + unix.CmsgLen(0)
	for name, edit := range map[string]func(b []byte){
		"icmp error": func(b []byte) { b[eeAt] = byte(unix.EHOSTUNREACH) },
		"sched":      func(b []byte) { b[eeAt+8] = unix.SCM_TSTAMP_SCHED },
		"no stamp": func(b []byte) {
			clear(b[unix.CmsgLen(0) : unix.CmsgLen(0)+16])
		},
	} {
		b := txMessage(7, now)
		edit(b)
		if _, ok := ParseTx(b); ok {
			t.Errorf("%s: taken for a transmit stamp", name)
		}
	}
	for n := range len(good) - 1 {
		if _, ok := ParseTx(good[:n]); ok && n < unix.CmsgSpace(48)+unix.CmsgLen(16) {
			t.Errorf("cut at %d bytes: taken for a transmit stamp", n)
		}
	}
}

// FuzzParseTx: any control bytes parse without a panic, and what parses
// as a stamp came from a whole stamp and error record.
func FuzzParseTx(f *testing.F) {
	f.Add(txMessage(7, time.Unix(1700000000, 5)))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		st, ok := ParseTx(b)
		if ok && st.At.Sec == 0 && st.At.Nsec == 0 {
			t.Fatal("a zero stamp taken")
		}
		_ = Arrival(time.Now(), b)
	})
}
