// Package e2e holds the end-to-end tests: the whole crawler (internal/app,
// both engines) against the simulated network of bench/simnet, compared
// address by address with the simulator's ground truth, and against real
// peers where they can run here. Every simulator test also requires the
// simulator to have seen a correct crawler (simClean): no protocol violation
// in any frame the crawler sent, no crawler error, no forbidden or stray
// dial, no connection shed. Tests that must limit, kill or measure the
// crawler run it as a child process with its own RLIMIT_NOFILE
// (child_test.go), so they do not depend on the host's limits.
//
// TestIPv6CJDNS runs itself again in a network namespace of its own
// (CLONE_NEWNET on the child, as root; it skips otherwise), makes the
// documentation prefix 2001:db8::/32 and fc00::/8 local on that loopback
// with iproute2, and crawls IPv4, IPv6 and CJDNS identities there with both
// engines. Every other test runs in the host's namespace on 127.0.0.0/8.
//
// scripts/mutants.sh breaks one behaviour at a time in a copy of the
// repository and checks that the test named for it fails. It has no
// non-test code.
package e2e
