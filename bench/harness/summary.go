package harness

import "github.com/nodesweep/nodesweep/internal/app"

// Summary is the crawler's --summary-json (and the floor's, which fills the
// same fields it has).
type Summary = app.SummaryFile

// ReadSummary reads a summary JSON file.
func ReadSummary(path string) (Summary, error) { return app.ReadSummaryFile(path) }
