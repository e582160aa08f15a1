//go:build !race

package engine_test

// slowdown scales the timing of the tests that race real peers against
// real timeouts (see race_on_test.go).
const slowdown = 1
