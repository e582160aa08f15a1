package harness

import (
	"encoding/json"
	"errors"
	"os"
)

// SaveJSON writes the raw results (every run), so that the report can be
// rendered again (`nodesweep bench --from FILE`) without measuring again.
func SaveJSON(path string, r *Results) error {
	for i := range r.Outcomes {
		if o := &r.Outcomes[i]; o.Err != nil {
			o.ErrText = o.Err.Error()
		}
	}
	b, err := json.MarshalIndent(r, "", " ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

// LoadJSON reads what SaveJSON wrote.
func LoadJSON(path string) (*Results, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var r Results
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, err
	}
	for i := range r.Outcomes {
		if o := &r.Outcomes[i]; o.ErrText != "" {
			o.Err = errors.New(o.ErrText)
		}
	}
	return &r, nil
}
