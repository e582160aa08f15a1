package tuning

import (
	"testing"

	"golang.org/x/sys/unix"
)

func TestRaiseNoFile(t *testing.T) {
	orig, err := GetNoFile()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// Leave the process as RaiseNoFile would: soft at hard.
		_ = unix.Setrlimit(unix.RLIMIT_NOFILE, &unix.Rlimit{Cur: orig.Hard, Max: orig.Hard})
	})
	if orig.Hard > 200 {
		// Lower the soft limit a little, as a shell with a low default would.
		low := unix.Rlimit{Cur: orig.Hard - 100, Max: orig.Hard}
		if err := unix.Setrlimit(unix.RLIMIT_NOFILE, &low); err != nil {
			t.Fatal(err)
		}
	}
	got, err := RaiseNoFile()
	if err != nil {
		t.Fatal(err)
	}
	if got.Soft != orig.Hard || got.Hard != orig.Hard {
		t.Fatalf("after RaiseNoFile: %+v, want soft = hard = %d", got, orig.Hard)
	}
	again, err := RaiseNoFile()
	if err != nil || again != got {
		t.Fatalf("second RaiseNoFile = %+v, %v; want %+v unchanged", again, err, got)
	}
}
