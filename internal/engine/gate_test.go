package engine

import "testing"

// TestGateAdmitsWhatBringsLittle: past the limit with answers expected,
// the gate still admits the ranks seen to bring little, and nothing once
// the backlog alone is over; a rank never seen counts as the largest mean.
func TestGateAdmitsWhatBringsLittle(t *testing.T) {
	const ranks = 16
	g := NewAnswerGate(1<<20, ranks)
	if top, ok := g.Admit(0); !ok || top != ranks-1 {
		t.Fatalf("empty gate admits %d %v", top, ok)
	}
	g.Dialled(14)
	g.Handled(14, 80<<10) // rank 14 brings answers
	g.Dialled(3)
	g.Handled(3, 200) // rank 3 is refused
	for range 20 {
		g.Dialled(14)
	}
	if top, ok := g.Admit(0); !ok || top != 3 {
		t.Fatalf("20 answers of 80 KB expected, limit 1 MB: admits up to %d %v, want 3", top, ok)
	}
	if _, ok := g.Admit(2 << 20); ok {
		t.Fatal("backlog over the limit: admitted")
	}
	for range 20 {
		g.Handled(14, 80<<10)
	}
	for range 10 {
		g.Dialled(12) // never seen: 80 KB each, by the prior
	}
	if top, ok := g.Admit(0); !ok || top != ranks-1 {
		t.Fatalf("800 KB expected: admits up to %d %v, want all", top, ok)
	}
	for range 5 {
		g.Dialled(12)
	}
	if top, _ := g.Admit(0); top == ranks-1 {
		t.Fatal("1.2 MB expected from a rank not seen yet: all ranks admitted")
	}
}
