package text

import (
	"reflect"
	"strings"
	"testing"
)

func TestPadFlat(t *testing.T) {
	seqs := [][]int{{1, 2, 3}, {4}, {}}
	tests := []struct {
		cfg     PadConfig
		want    []float32
		wantLen int
	}{
		{PadConfig{}, []float32{1, 2, 3, 0, 0, 4, 0, 0, 0}, 3},
		{PadConfig{MaxLen: 2, Padding: "post"}, []float32{2, 3, 4, 0, 0, 0}, 2},
		{PadConfig{MaxLen: 2, Truncating: "post", Value: 9}, []float32{1, 2, 9, 4, 9, 9}, 2},
	}
	for _, tt := range tests {
		got, n, err := PadFlat[float32](seqs, tt.cfg)
		if err != nil {
			t.Fatalf("PadFlat(%+v): %v", tt.cfg, err)
		}
		if n != tt.wantLen || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("PadFlat(%+v) = %v, %d; want %v, %d", tt.cfg, got, n, tt.want, tt.wantLen)
		}
		rows, err := PadSequences(seqs, tt.cfg)
		if err != nil {
			t.Fatal(err)
		}
		for i, row := range rows {
			for j, v := range row {
				if float32(v) != got[i*n+j] {
					t.Errorf("PadSequences and PadFlat differ at [%d][%d]: %d vs %v", i, j, v, got[i*n+j])
				}
			}
		}
	}
	ints, _, err := PadFlat[int32]([][]int{{5}}, PadConfig{MaxLen: 3})
	if err != nil || !reflect.DeepEqual(ints, []int32{0, 0, 5}) {
		t.Errorf("PadFlat[int32] = %v, %v", ints, err)
	}
}

func TestPadErrors(t *testing.T) {
	tests := []struct {
		cfg     PadConfig
		wantErr string
	}{
		{PadConfig{Padding: "both"}, `Padding is "both"`},
		{PadConfig{Truncating: "PRE"}, `Truncating is "PRE"`},
		{PadConfig{MaxLen: -1}, "MaxLen is -1"},
	}
	for _, tt := range tests {
		// Errors come before any sequence needs the setting, unlike Keras.
		for _, seqs := range [][][]int{nil, {{1}}} {
			if _, err := PadSequences(seqs, tt.cfg); err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("PadSequences(%v, %+v) error = %v, want %q", seqs, tt.cfg, err, tt.wantErr)
			}
			if _, _, err := PadFlat[float64](seqs, tt.cfg); err == nil {
				t.Errorf("PadFlat(%v, %+v) succeeded", seqs, tt.cfg)
			}
		}
	}
}

func TestPadRowsAreIndependent(t *testing.T) {
	rows, err := PadSequences([][]int{{1}, {2}}, PadConfig{})
	if err != nil {
		t.Fatal(err)
	}
	rows[0] = append(rows[0], 7) // must not overwrite row 1
	if rows[1][0] != 2 {
		t.Errorf("appending to row 0 changed row 1 to %v", rows[1])
	}
}
