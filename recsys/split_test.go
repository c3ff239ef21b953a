package recsys

import (
	"reflect"
	"strings"
	"testing"
)

func TestLeaveLastOut(t *testing.T) {
	rs := []Rating{
		{User: 0, Item: 0, Value: 3, Time: 30},
		{User: 0, Item: 1, Value: 4, Time: 10},
		{User: 1, Item: 0, Value: 5, Time: 5},
		{User: 0, Item: 2, Value: 2, Time: 20},
		{User: 0, Item: 3, Value: 1, Time: 30}, // ties with item 0: later in the input, so later
		{User: 2, Item: 1, Value: 2, Time: 1},
		{User: 2, Item: 2, Value: 2, Time: 2},
	}
	cases := []struct {
		k         int
		wantTrain []Rating
		wantTest  []Rating
	}{
		{1, []Rating{rs[0], rs[1], rs[2], rs[3], rs[5]}, []Rating{rs[4], rs[6]}},
		{2, []Rating{rs[1], rs[2], rs[3], rs[5], rs[6]}, []Rating{rs[0], rs[4]}},
	}
	for _, c := range cases {
		tr, te, err := LeaveLastOut(rs, c.k)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(tr, c.wantTrain) || !reflect.DeepEqual(te, c.wantTest) {
			t.Errorf("k=%d: train %v test %v, want %v and %v", c.k, tr, te, c.wantTrain, c.wantTest)
		}
	}
	if _, _, err := LeaveLastOut(rs, 0); err == nil {
		t.Error("k=0: expected an error")
	}
	if _, _, err := LeaveLastOut(rs, 4); err == nil || !strings.Contains(err.Error(), "no user has more than 4") {
		t.Errorf("k=4: %v", err)
	}
}
