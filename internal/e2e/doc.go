// Package e2e holds the end-to-end tests: the whole crawler (internal/app,
// both engines) against the simulated network of bench/simnet, compared
// address by address with the simulator's ground truth, and against real
// peers where they can run here. It has no non-test code.
package e2e
