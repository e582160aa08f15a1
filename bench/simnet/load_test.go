package simnet

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/btcsuite/btcd/wire/v2"
)

// The load test measures what the simulator serves while a crawler-like
// client in another process (this test binary re-executed, so that the
// two sides' file descriptors count against separate 20,000 limits)
// hammers it. Opt-in: SIMNET_LOAD=1 go test -run TestLoad -v.
//
//	rate: 256 workers dial, handshake, getaddr, read the addrv2, close.
//	hold: 15,000 connections handshaken and held open at once.

type loadResult struct {
	Done   int64   `json:"done"`
	Errors int64   `json:"errors"`
	Secs   float64 `json:"secs"`
	Held   int     `json:"held"`
}

func TestLoad(t *testing.T) {
	if os.Getenv("SIMNET_LOAD") == "" {
		t.Skip("set SIMNET_LOAD=1 to run the load test")
	}
	n := startNet(t, Config{Profile: ProfileHealthy, Nodes: 50_000, Seed: 2, Degree: 250})
	var targets []string
	for i := 0; i < 50_000; i++ {
		if id := n.Identity(i); id.Class == ClassReachable {
			targets = append(targets, id.Addr.String())
		}
	}
	tf := t.TempDir() + "/targets"
	os.WriteFile(tf, []byte(strings.Join(targets, "\n")), 0o644)
	magic := n.Config().Network.Magic

	run := func(mode string, arg int) (loadResult, *exec.Cmd, *bufio.Reader) {
		cmd := exec.Command(os.Args[0], "-test.run=^TestLoadChild$", "-test.v")
		cmd.Env = append(os.Environ(), "SIMNET_LOAD_CHILD="+mode, "SIMNET_LOAD_TARGETS="+tf,
			"SIMNET_LOAD_ARG="+strconv.Itoa(arg), "SIMNET_LOAD_MAGIC="+strconv.Itoa(int(binary.LittleEndian.Uint32(magic[:]))))
		out, _ := cmd.StdoutPipe()
		cmd.Stdin, _ = os.Open(os.DevNull)
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		br := bufio.NewReader(out)
		for {
			line, err := br.ReadString('\n')
			if err != nil {
				t.Fatalf("child: %v", err)
			}
			if rest, ok := strings.CutPrefix(line, "RESULT "); ok {
				var r loadResult
				json.Unmarshal([]byte(rest), &r)
				return r, cmd, br
			}
		}
	}

	r, cmd, br := run("rate", 5)
	io.Copy(io.Discard, br)
	cmd.Wait()
	t.Logf("rate: %d handshake+getaddr+addrv2 sessions in %.1fs = %.0f/s, %d errors; simulator RSS %.0f MB",
		r.Done, r.Secs, float64(r.Done)/r.Secs, r.Errors, float64(rssBytes(t))/1e6)

	r, cmd, br = run("hold", 15_000)
	time.Sleep(time.Second)
	runtime.GC()
	st := n.Stats()
	t.Logf("hold: child holds %d (%d errors, %.1fs to open); simulator: %d active, %d goroutines, RSS %.0f MB, shed %d",
		r.Held, r.Errors, r.Secs, st.Active, runtime.NumGoroutine(), float64(rssBytes(t))/1e6, st.Shed)
	cmd.Process.Kill()
	io.Copy(io.Discard, br)
	cmd.Wait()
	if st.Active < 14_000 {
		t.Errorf("only %d connections held", st.Active)
	}
}

// TestLoadChild is the client side of TestLoad, run in a child process.
func TestLoadChild(t *testing.T) {
	mode := os.Getenv("SIMNET_LOAD_CHILD")
	if mode == "" {
		t.Skip("child of TestLoad only")
	}
	raw, _ := os.ReadFile(os.Getenv("SIMNET_LOAD_TARGETS"))
	targets := strings.Split(string(raw), "\n")
	arg, _ := strconv.Atoi(os.Getenv("SIMNET_LOAD_ARG"))
	m, _ := strconv.Atoi(os.Getenv("SIMNET_LOAD_MAGIC"))
	bnet := wire.BitcoinNet(m)
	var hello bytes.Buffer
	for _, msg := range []wire.Message{ourVersion(t), wire.NewMsgSendAddrV2(), wire.NewMsgVerAck(), wire.NewMsgGetAddr()} {
		wire.WriteMessageN(&hello, msg, wire.ProtocolVersion, bnet)
	}
	var done, errs atomic.Int64
	start := time.Now()
	switch mode {
	case "rate":
		stop := time.Now().Add(time.Duration(arg) * time.Second)
		var wg sync.WaitGroup
		for w := 0; w < 256; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := w; time.Now().Before(stop); i += 256 {
					c, err := net.DialTimeout("tcp4", targets[i%len(targets)], 2*time.Second)
					if err == nil {
						err = loadSession(c, hello.Bytes(), "addr")
						// RST, as crawlers do (--linger0): TIME_WAIT on the client
						// side makes Linux's port search for connect() crawl.
						c.(*net.TCPConn).SetLinger(0)
						c.Close()
					}
					if err != nil {
						errs.Add(1)
					} else {
						done.Add(1)
					}
				}
			}()
		}
		wg.Wait()
		b, _ := json.Marshal(loadResult{Done: done.Load(), Errors: errs.Load(), Secs: time.Since(start).Seconds()})
		fmt.Printf("RESULT %s\n", b)
	case "hold":
		var mu sync.Mutex
		var held []net.Conn
		sem := make(chan struct{}, 500)
		var wg sync.WaitGroup
		for i := 0; i < arg; i++ {
			sem <- struct{}{}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer func() { <-sem }()
				c, err := net.DialTimeout("tcp4", targets[i%len(targets)], 5*time.Second)
				if err == nil {
					err = loadSession(c, hello.Bytes(), "verack")
				}
				if err != nil {
					errs.Add(1)
					if c != nil {
						c.Close()
					}
					return
				}
				c.(*net.TCPConn).SetLinger(0) // killed later: RST, no TIME_WAIT left behind
				mu.Lock()
				held = append(held, c)
				mu.Unlock()
			}()
		}
		wg.Wait()
		b, _ := json.Marshal(loadResult{Held: len(held), Errors: errs.Load(), Secs: time.Since(start).Seconds()})
		fmt.Printf("RESULT %s\n", b)
		time.Sleep(time.Minute) // until the parent kills us
	}
}

// loadSession writes hello and reads frames until the command until.
func loadSession(c net.Conn, hello []byte, until string) error {
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.Write(hello); err != nil {
		return err
	}
	br := bufio.NewReaderSize(c, 4096)
	var hdr [24]byte
	for i := 0; i < 20; i++ {
		if _, err := io.ReadFull(br, hdr[:]); err != nil {
			return err
		}
		if _, err := br.Discard(int(binary.LittleEndian.Uint32(hdr[16:20]))); err != nil {
			return err
		}
		if cmd := string(bytes.TrimRight(hdr[4:16], "\x00")); cmd == until || (until == "addr" && cmd == "addrv2") {
			return nil
		}
	}
	return fmt.Errorf("no %s", until)
}

// BenchmarkSession: connect, handshake, getaddr, 250-address addrv2, RST —
// client and simulator in one process, sharing the cores.
func BenchmarkSession(b *testing.B) {
	n := startNet(b, Config{Profile: ProfileHealthy, Nodes: 50_000, Seed: 2, Degree: 250})
	var hello bytes.Buffer
	for _, msg := range []wire.Message{ourVersion(b), wire.NewMsgSendAddrV2(), wire.NewMsgVerAck(), wire.NewMsgGetAddr()} {
		wire.WriteMessageN(&hello, msg, wire.ProtocolVersion, btcnet(n))
	}
	var next atomic.Uint32
	var errs atomic.Int64
	b.SetParallelism(8)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			ap, _ := n.Identity(int(next.Add(1) % 50_000)).Addr.AddrPort()
			c, err := net.DialTimeout("tcp4", ap.String(), 2*time.Second)
			if err == nil {
				err = loadSession(c, hello.Bytes(), "addr")
				c.(*net.TCPConn).SetLinger(0)
				c.Close()
			}
			if err != nil {
				errs.Add(1) // a loaded shared machine drops the odd SYN; count, don't abort
			}
		}
	})
	b.ReportMetric(float64(errs.Load()), "errors")
	if errs.Load() > int64(b.N)/100 {
		b.Errorf("%d of %d sessions failed", errs.Load(), b.N)
	}
}
