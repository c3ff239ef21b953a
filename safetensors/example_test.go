package safetensors_test

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/tapeml/tapeml/safetensors"
)

func Example() {
	dir, err := os.MkdirTemp("", "example")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "model.safetensors")

	// A Linear(2, 1) and a BatchNorm counter, under state_dict names.
	err = safetensors.WriteFile(path, []safetensors.Tensor{
		safetensors.F32("fc.weight", []int{1, 2}, []float32{0.5, -1}),
		safetensors.F32("fc.bias", []int{1}, []float32{0.25}),
		safetensors.I64("bn.num_batches_tracked", []int{}, []int64{3}),
	}, map[string]string{"format": "pt"})
	if err != nil {
		fmt.Println(err)
		return
	}

	f, err := safetensors.ReadFile(path)
	if err != nil {
		fmt.Println(err)
		return
	}
	w, _ := f.Lookup("fc.weight")
	values, err := w.Float32s()
	fmt.Println(f.Names(), f.Metadata["format"])
	fmt.Println(w.Shape, values, err)
	// Output:
	// [fc.weight fc.bias bn.num_batches_tracked] pt
	// [1 2] [0.5 -1] <nil>
}
