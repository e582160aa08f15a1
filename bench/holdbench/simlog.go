package holdbench

import (
	"bufio"
	"fmt"
	"io"
	"strings"

	"github.com/nodesweep/nodesweep/codec"
)

// readSimLog reads one of the simulator's CSV logs (a header, then lines
// of fields fields whose first is the node) and hands each line to line.
//
// The log is read while the simulator still writes it, through a buffered
// writer that can leave the file ending anywhere, inside a line and even
// inside its last number; so only lines ended by a newline are records,
// and what follows the last newline is a line still being written, left
// out. Any complete line that does not parse is an error: the log is
// wrong, and scoring on without it would count its samples unmatched
// without a word of why.
func readSimLog(r io.Reader, name string, fields int, line func(codec.Addr, []string) error) error {
	br := bufio.NewReader(r)
	for n := 1; ; n++ {
		s, err := br.ReadString('\n')
		if err == io.EOF {
			if n == 1 {
				return fmt.Errorf("%s: no header", name)
			}
			return nil // s, if any, is cut off
		}
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		rec := strings.Split(strings.TrimSuffix(s, "\n"), ",")
		if len(rec) != fields {
			return fmt.Errorf("%s line %d: %d fields, want %d", name, n, len(rec), fields)
		}
		if n == 1 {
			continue // header
		}
		a, err := codec.ParseAddr(rec[0])
		if err == nil {
			err = line(a, rec)
		}
		if err != nil {
			return fmt.Errorf("%s line %d: %w", name, n, err)
		}
	}
}
