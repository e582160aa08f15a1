//go:build race

package simnet

// raceEnabled: the race detector's shadow memory inflates RSS several
// times over, so memory bounds are not checked under it.
const raceEnabled = true
