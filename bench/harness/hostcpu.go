package harness

import (
	"os"
	"strconv"
	"strings"
)

// clockTicks is USER_HZ, the unit of /proc/stat (100 on Linux).
const clockTicks = 100

// hostBusySec returns the CPU seconds every process of the machine has used
// since boot (user, nice, system, irq, softirq, steal of /proc/stat's "cpu"
// line); NaN if unreadable. A run's delta minus its crawler's and
// simulator's CPU is what other programs took meanwhile: the noise.
func hostBusySec() float64 {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return nan
	}
	return parseBusy(string(b))
}

func parseBusy(stat string) float64 {
	line, _, _ := strings.Cut(stat, "\n")
	f := strings.Fields(line)
	if len(f) < 9 || f[0] != "cpu" {
		return nan
	}
	var busy float64
	for _, i := range []int{1, 2, 3, 6, 7, 8} { // user nice system irq softirq steal
		v, err := strconv.ParseFloat(f[i], 64)
		if err != nil {
			return nan
		}
		busy += v
	}
	return busy / clockTicks
}
