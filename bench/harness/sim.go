package harness

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"time"
)

// SimSpec says which simulated network a scenario crawls.
type SimSpec struct {
	Profile string
	Nodes   int
	Seed    uint64
	Extra   []string // further `nodesweep sim` flags (mix, slow delay, …)
}

// Args is the `nodesweep sim` command line writing its truth to truthPath.
func (s SimSpec) Args(truthPath string) []string {
	args := []string{"sim", "--profile", s.Profile, "--nodes", strconv.Itoa(s.Nodes),
		"--seed", strconv.FormatUint(s.Seed, 10), "--truth", truthPath, "--port", "0", "--log-level", "warn",
		"--v2-share", "0"} // v1 networks unless a scenario's Extra says otherwise
	return append(args, s.Extra...)
}

// Sim is a running simulator process.
type Sim struct {
	cmd   *exec.Cmd
	hwm   *hwmWatcher
	done  chan error
	log   *os.File
	Truth *TruthInfo
}

// simReadyTimeout bounds the start of a simulator (a 200k-address network
// starts in a few seconds and writes its truth once its listeners are up).
const simReadyTimeout = 90 * time.Second

// StartSim starts `bin sim …` and waits until its truth file exists: the
// truth holds the ports, so it is written only once the network listens.
func StartSim(ctx context.Context, bin string, spec SimSpec, truthPath, logPath string) (*Sim, error) {
	_ = os.Remove(truthPath)
	lf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, spec.Args(truthPath)...)
	cmd.Stdout, cmd.Stderr = lf, lf
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		lf.Close()
		return nil, err
	}
	s := &Sim{cmd: cmd, done: make(chan error, 1), log: lf, hwm: watchHWM(cmd.Process.Pid)}
	go func() { s.done <- cmd.Wait() }()
	deadline := time.Now().Add(simReadyTimeout)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case err := <-s.done:
			s.done <- err
			lf.Close()
			return nil, fmt.Errorf("simulator exited before it was ready (%v); see %s", err, logPath)
		case <-ctx.Done():
			s.Stop()
			return nil, ctx.Err()
		case <-tick.C:
		}
		if _, err := os.Stat(truthPath); err == nil {
			t, err := ReadTruth(truthPath)
			if err == nil {
				s.Truth = t
				return s, nil
			}
			if time.Now().After(deadline) {
				s.Stop()
				return nil, err
			}
		} else if time.Now().After(deadline) {
			s.Stop()
			return nil, fmt.Errorf("simulator not ready after %v; see %s", simReadyTimeout, logPath)
		}
	}
}

// Stop interrupts the simulator, waits for it (killing it after 15 s) and
// returns what it used.
func (s *Sim) Stop() (Usage, error) {
	_ = s.cmd.Process.Signal(os.Interrupt)
	var err error
	select {
	case err = <-s.done:
	case <-time.After(15 * time.Second):
		_ = s.cmd.Process.Kill()
		err = <-s.done
	}
	s.log.Close()
	var ee *exec.ExitError
	if errors.As(err, &ee) && !ee.Exited() {
		err = nil // ended by our signal
	}
	if err != nil && s.cmd.ProcessState != nil && s.cmd.ProcessState.ExitCode() == 130 {
		err = nil
	}
	u := UsageOf(s.cmd.ProcessState)
	u.RusageMaxRSSKiB, u.MaxRSSKiB = u.MaxRSSKiB, s.hwm.Stop()
	return u, err
}
