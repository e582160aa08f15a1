package nodes

import (
	"reflect"
	"testing"
)

func TestTipHeight(t *testing.T) {
	for _, c := range []struct {
		in   []int32
		want int32
	}{
		{nil, 0},
		{[]int32{5}, 5},
		{[]int32{100, 100, 99, 1_000_000}, 100}, // one liar does not move it
		{[]int32{100, 101, 101, 100}, 101},      // tie: the higher
	} {
		if got := TipHeight(c.in); got != c.want {
			t.Errorf("TipHeight(%v) = %d, want %d", c.in, got, c.want)
		}
	}
}

func TestServiceNames(t *testing.T) {
	got := ServiceNames(1 | 8 | 1024 | 2048 | 1<<40)
	want := []string{"NODE_NETWORK", "NODE_WITNESS", "NODE_NETWORK_LIMITED", "NODE_P2P_V2", "BIT_40"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ServiceNames = %v, want %v", got, want)
	}
	if got := ServiceNames(0); len(got) != 0 {
		t.Errorf("ServiceNames(0) = %v", got)
	}
}
