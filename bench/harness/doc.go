// Package harness is nodesweep's benchmark harness (`make bench`,
// `nodesweep bench`): it starts the simulator (`nodesweep sim`) and each
// crawler engine in processes of their own, alternates the engines run by
// run, measures every run from the child's rusage (CPU, peak RSS) and its
// --summary-json (wall time, handshakes, peak goroutines, connections in
// flight, GC pauses), scores recall against the simulator's ground truth,
// and writes bench/results/latest.md with medians, spreads, ratios
// gnet ÷ goroutine and engine ÷ floor (bench/floor), the engine goals
// with PASS/MISS, and hand-made SVG plots of the scaling scenario.
package harness
