//go:build race

package engine_test

// slowdown scales the timing of the tests that race real peers against
// real timeouts: the race detector makes everything several times slower.
const slowdown = 4
