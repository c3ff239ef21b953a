package safetensors

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files")

// torchGolden is testdata/torch_state_dict.json, written by torch_golden.py
// next to the safetensors file it describes.
type torchGolden struct {
	Metadata       map[string]string `json:"metadata"`
	StateDictOrder []string          `json:"state_dict_order"`
	Tensors        map[string]struct {
		Dtype  string    `json:"dtype"`
		Shape  []int     `json:"shape"`
		Hex    string    `json:"hex"`
		Values []float64 `json:"values"`
	} `json:"tensors"`
}

func loadTorchGolden(t *testing.T) torchGolden {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "torch_state_dict.json"))
	if err != nil {
		t.Fatal(err)
	}
	var g torchGolden
	if err := json.Unmarshal(data, &g); err != nil {
		t.Fatal(err)
	}
	return g
}

// TestTorchGolden reads a file serialized from a PyTorch state_dict and
// checks every tensor against the values torch printed, then checks that
// writing the same tensors in the same order reproduces the file byte for
// byte.
func TestTorchGolden(t *testing.T) {
	g := loadTorchGolden(t)
	path := filepath.Join("testdata", "torch_state_dict.safetensors")
	f, err := ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(f.Metadata, g.Metadata) {
		t.Errorf("metadata = %v, want %v", f.Metadata, g.Metadata)
	}
	if len(f.Tensors) != len(g.Tensors) {
		t.Errorf("%d tensors, want %d", len(f.Tensors), len(g.Tensors))
	}
	for name, want := range g.Tensors {
		got, ok := f.Lookup(name)
		if !ok {
			t.Errorf("tensor %q missing", name)
			continue
		}
		if got.Dtype != want.Dtype || !slices.Equal(got.Shape, want.Shape) || hex.EncodeToString(got.Data) != want.Hex {
			t.Errorf("tensor %q = %s %v %x, want %s %v %s", name, got.Dtype, got.Shape, got.Data, want.Dtype, want.Shape, want.Hex)
		}
		switch got.Dtype {
		case "F32":
			v, err := got.Float32s()
			if err != nil || len(v) != len(want.Values) {
				t.Errorf("tensor %q: Float32s = %v, %v", name, v, err)
				continue
			}
			for i := range v {
				if v[i] != float32(want.Values[i]) {
					t.Errorf("tensor %q[%d] = %v, torch says %v", name, i, v[i], want.Values[i])
				}
			}
		case "I64":
			v, err := got.Int64s()
			if err != nil || len(v) != len(want.Values) || (len(v) > 0 && float64(v[0]) != want.Values[0]) {
				t.Errorf("tensor %q: Int64s = %v, %v; torch says %v", name, v, err, want.Values)
			}
		}
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if again := encode(t, f.Tensors, f.Metadata); !bytes.Equal(again, raw) {
		t.Errorf("rewriting the torch file changed it:\n got %q\nwant %q", again, raw)
	}
}

// TestGoWrittenGolden writes the torch state_dict in state_dict order, as
// the checkpoint package does, and compares it with the checked-in file that
// torch_golden.py check loaded into the torch module.
func TestGoWrittenGolden(t *testing.T) {
	g := loadTorchGolden(t)
	var tensors []Tensor
	for _, name := range g.StateDictOrder {
		want := g.Tensors[name]
		switch want.Dtype {
		case "F32":
			v := make([]float32, len(want.Values))
			for i, x := range want.Values {
				v[i] = float32(x)
			}
			tensors = append(tensors, F32(name, want.Shape, v))
		case "I64":
			v := make([]int64, len(want.Values))
			for i, x := range want.Values {
				v[i] = int64(x)
			}
			tensors = append(tensors, I64(name, want.Shape, v))
		default:
			t.Fatalf("state_dict tensor %q has dtype %s", name, want.Dtype)
		}
	}
	got := encode(t, tensors, map[string]string{"format": "pt"})
	path := filepath.Join("testdata", "go_state_dict.safetensors")
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update, then torch_golden.py check)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("Write output differs from %s:\n got %q\nwant %q", path, got, want)
	}
}
