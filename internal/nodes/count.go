package nodes

import "sort"

// Count is one bar of a histogram: how many nodes have Label.
type Count struct {
	Label string `json:"label"`
	N     int    `json:"n"`
}

// OtherLabel labels the sum of what Top leaves out.
const OtherLabel = "(other)"

// Top sorts a histogram by count (then label) and keeps n entries plus an
// OtherLabel sum; n = 0 keeps all. Reports, snapshots and the dashboard
// count the same way.
func Top(m map[string]int, n int) []Count {
	out := make([]Count, 0, len(m))
	for k, v := range m {
		out = append(out, Count{Label: k, N: v})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].N != out[j].N {
			return out[i].N > out[j].N
		}
		return out[i].Label < out[j].Label
	})
	if n > 0 && len(out) > n {
		other := 0
		for _, c := range out[n:] {
			other += c.N
		}
		out = append(out[:n], Count{Label: OtherLabel, N: other})
	}
	return out
}
