package harness

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"syscall"
	"time"
)

// Child is one measured crawler (or floor) process.
type Child struct {
	Usage   Usage
	Summary Summary
	Wall    time.Duration // process lifetime, start to exit
}

// RunChild runs `bin args…` with stdout and stderr to logPath, kills it
// after timeout, and reads the summary it wrote to summaryPath.
func RunChild(ctx context.Context, bin string, args []string, summaryPath, logPath string, timeout time.Duration) (Child, error) {
	var c Child
	_ = os.Remove(summaryPath)
	lf, err := os.Create(logPath)
	if err != nil {
		return c, err
	}
	defer lf.Close()
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Stdout, cmd.Stderr = lf, lf
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 10 * time.Second
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return c, err
	}
	hwm := watchHWM(cmd.Process.Pid)
	runErr := cmd.Wait()
	c.Wall = time.Since(start)
	c.Usage = UsageOf(cmd.ProcessState)
	c.Usage.RusageMaxRSSKiB = c.Usage.MaxRSSKiB
	c.Usage.MaxRSSKiB = hwm.Stop()
	if ctx.Err() != nil {
		return c, fmt.Errorf("killed after %v (see %s)", timeout, logPath)
	}
	if runErr != nil {
		return c, fmt.Errorf("%v (see %s)", runErr, logPath)
	}
	c.Summary, err = ReadSummary(summaryPath)
	return c, err
}
