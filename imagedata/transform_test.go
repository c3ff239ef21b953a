package imagedata

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"

	"github.com/tapeml/tapeml/dataset"
)

var update = flag.Bool("update", false, "rewrite golden files")

func TestParseAugment(t *testing.T) {
	for _, tt := range []struct {
		in      string
		want    []string // ops
		wantErr string
	}{
		{"", nil, ""},
		{"none", nil, ""},
		{" NONE ", nil, ""},
		{"crop,flip", []string{OpRandomCrop, OpRandomHorizontalFlip}, ""},
		{" Resized-Crop , hflip", []string{OpRandomResizedCrop, OpRandomHorizontalFlip}, ""},
		{"flip,random-crop", []string{OpRandomHorizontalFlip, OpRandomCrop}, ""},
		{"crop,blur", nil, `augment list "crop,blur": unknown entry "blur": want crop, resized-crop, flip or none`},
		{"crop,", nil, `unknown entry ""`},
		{"none,flip", nil, `"none" cannot be combined`},
		{"flip,hflip", nil, `"hflip" given twice`},
	} {
		got, err := ParseAugment(tt.in)
		if tt.wantErr != "" {
			checkError(t, err, "", tt.wantErr)
			continue
		}
		if err != nil {
			t.Errorf("ParseAugment(%q): %v", tt.in, err)
			continue
		}
		var ops []string
		for _, a := range got {
			ops = append(ops, a.Op)
		}
		if !slices.Equal(ops, tt.want) {
			t.Errorf("ParseAugment(%q) = %v, want %v", tt.in, ops, tt.want)
		}
	}
}

func TestPipelineDefaultsAndJSON(t *testing.T) {
	for _, tt := range []struct{ side, padding int }{{28, 4}, {32, 4}, {8, 1}, {4, 1}, {224, 28}} {
		p, err := NewPipeline(1, tt.side, tt.side, []Augment{{Op: OpRandomCrop}}, []float64{0.5}, []float64{0.25})
		if err != nil || p.Augment[0].Padding != tt.padding {
			t.Errorf("%d×%d: padding %d (%v), want %d", tt.side, tt.side, p.Augment[0].Padding, err, tt.padding)
		}
	}
	augment, _ := ParseAugment("resized-crop,crop,flip")
	p, err := NewPipeline(3, 32, 32, augment, []float64{0.4914, 0.4822, 0.4465}, []float64{0.2470, 0.2435, 0.2616})
	if err != nil {
		t.Fatal(err)
	}
	got, err := json.MarshalIndent(struct{ Train, Eval Pipeline }{p, p.Eval()}, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "pipeline.json")
	if *update {
		if err := os.WriteFile(golden, append(got, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(append(got, '\n'), want) {
		t.Errorf("pipeline JSON changed (rerun with -update if intended):\n%s", got)
	}
	back, err := ParsePipeline(mustJSON(t, p))
	if err != nil || !reflect.DeepEqual(back, p) {
		t.Errorf("round trip: %+v, %v", back, err)
	}
	if len(p.Augment) != 3 || p.Eval().Augment != nil {
		t.Error("Eval kept the augmentations, or Pipeline lost them")
	}
}

func mustJSON(t *testing.T, v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestPipelineValidate(t *testing.T) {
	p2 := 2.0
	for _, tt := range []struct {
		json string
		want string
	}{
		{`{"channels":1,"height":28,"width":28,"mean":[0.5],"std":[0.5]}`, ""},
		{`{"channels":2,"height":28,"width":28,"mean":[0.5,0.5],"std":[0.5,0.5]}`, "pipeline: channels 2, want 1 or 3"},
		{`{"channels":1,"height":0,"width":28,"mean":[0.5],"std":[0.5]}`, "height 0, width 28: want positive sizes"},
		{`{"channels":3,"height":8,"width":8,"mean":[0.5],"std":[0.5]}`, "1 mean and 1 std values for 3 channels"},
		{`{"channels":1,"height":8,"width":8,"mean":[0.5],"std":[0]}`, "channel 0: mean 0.5, std 0: want finite values and std > 0"},
		{`{"channels":1,"height":8,"width":8,"mean":[0.5],"std":[1e-300]}`, "std 1e-300: normalized pixels are not finite in float32"},
		{`{"channels":1,"height":8,"width":8,"mean":[0.5],"std":[1e-45]}`, "normalized pixels are not finite in float32"},
		{`{"channels":1,"height":8,"width":8,"mean":[1e300],"std":[1]}`, "normalized pixels are not finite in float32"},
		{`{"channels":1,"height":8,"width":8,"mean":[0.5],"std":[1],"augment":[{"op":"blur"}]}`, `augment[0] (blur): unknown op "blur"`},
		{`{"channels":1,"height":8,"width":8,"mean":[0.5],"std":[1],"augment":[{"op":"random_resized_crop","scale":[0.5,2],"ratio":[1,1]}]}`, "scale [0.5 2]: want 0 < min ≤ max ≤ 1"},
		{`{"channels":1,"height":8,"width":8,"mean":[0.5],"std":[1],"augment":[{"op":"random_resized_crop"}]}`, "scale and ratio are required"},
		{`{"channels":1,"height":8,"width":8,"mean":[0.5],"std":[1],"augment":[{"op":"random_crop","padding":-1}]}`, "padding -1"},
		{`{"channels":1,"height":8,"width":8,"mean":[0.5],"std":[1],"augment":[{"op":"random_horizontal_flip","p":2}]}`, "p: want a probability in [0, 1]"},
		{`{"channels":"one"}`, "pipeline: json: cannot unmarshal"},
	} {
		_, err := ParsePipeline([]byte(tt.json))
		checkError(t, err, "", tt.want)
	}
	if _, err := NewPipeline(1, 8, 8, []Augment{{Op: OpRandomHorizontalFlip, P: &p2}}, []float64{0}, []float64{1}); err == nil {
		t.Error("p = 2 accepted")
	}
}

// ramp is a c×h×w image whose pixel (c, y, x) is 100c + 10y + x.
func ramp(c, h, w int) []float32 {
	x := make([]float32, c*h*w)
	for ch := range c {
		for y := range h {
			for i := range w {
				x[(ch*h+y)*w+i] = float32(100*ch + 10*y + i)
			}
		}
	}
	return x
}

func TestFlip(t *testing.T) {
	x := ramp(2, 2, 3)
	flipHorizontal(x, 2, 2, 3)
	want := []float32{2, 1, 0, 12, 11, 10, 102, 101, 100, 112, 111, 110}
	if !slices.Equal(x, want) {
		t.Errorf("flip = %v, want %v", x, want)
	}
}

func TestShift(t *testing.T) {
	p := Pipeline{Channels: 2, Height: 3, Width: 4}
	for _, tt := range []struct {
		dy, dx int
		want   []float32 // channel 0
	}{
		{0, 0, []float32{0, 1, 2, 3, 10, 11, 12, 13, 20, 21, 22, 23}},
		{1, 0, []float32{10, 11, 12, 13, 20, 21, 22, 23, 0, 0, 0, 0}}, // content moves up
		{0, -2, []float32{0, 0, 0, 1, 0, 0, 10, 11, 0, 0, 20, 21}},    // content moves right
		{-1, 1, []float32{0, 0, 0, 0, 1, 2, 3, 0, 11, 12, 13, 0}},     // down and left
		{3, 0, []float32{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}},         // all padding
	} {
		a := augmenter{p: p}
		x := ramp(2, 3, 4)
		a.shift(x, tt.dy, tt.dx)
		if !slices.Equal(x[:12], tt.want) {
			t.Errorf("shift(%d, %d) = %v, want %v", tt.dy, tt.dx, x[:12], tt.want)
		}
		if tt.dy == 1 && tt.dx == 0 && x[12] != 110 {
			t.Errorf("channel 1 not shifted alike: %v", x[12:])
		}
	}
}

// TestRandomCrop checks that a padded random crop is a shift by every
// offset in [−pad, pad]², and nothing else.
func TestRandomCrop(t *testing.T) {
	p, err := NewPipeline(1, 6, 6, []Augment{{Op: OpRandomCrop, Padding: 2}}, []float64{0}, []float64{1})
	if err != nil {
		t.Fatal(err)
	}
	a := augmenter{p: p}
	seen := map[[2]int]bool{}
	for index := range 400 {
		x := ramp(1, 6, 6)
		for i := range x {
			x[i]++ // so that padding (0) differs from every pixel
		}
		rng := augRNG(1, 0, index)
		a.apply(x, &rng)
		found := false
		for dy := -2; dy <= 2 && !found; dy++ {
			for dx := -2; dx <= 2 && !found; dx++ {
				want := ramp(1, 6, 6)
				for i := range want {
					want[i]++
				}
				a.shift(want, dy, dx)
				if slices.Equal(x, want) {
					seen[[2]int{dy, dx}], found = true, true
				}
			}
		}
		if !found {
			t.Fatalf("example %d: %v is not a shift of the image", index, x)
		}
	}
	if len(seen) != 25 {
		t.Errorf("%d of 25 offsets seen", len(seen))
	}
}

func TestResizedCropBox(t *testing.T) {
	scale, ratio := [2]float64{0.08, 1}, [2]float64{3.0 / 4, 4.0 / 3}
	rng := &dataset.SplitMix{State: 3}
	for range 2000 {
		top, left, h, w := resizedCropBox(32, 28, scale, ratio, rng)
		if top < 0 || left < 0 || h < 1 || w < 1 || top+h > 32 || left+w > 28 {
			t.Fatalf("box (%d, %d, %d, %d) outside 32×28", top, left, h, w)
		}
		// Rounding the sides moves the area share and ratio a little.
		if share := float64(h*w) / (32 * 28); share < 0.06 || share > 1 {
			t.Errorf("area share %.3f outside the scale", share)
		}
		if r := float64(w) / float64(h); r < 0.6 || r > 1.6 {
			t.Errorf("ratio %.3f outside [3/4, 4/3]", r)
		}
	}
	// A ratio the image cannot hold falls back to the clamped centre crop.
	top, left, h, w := resizedCropBox(10, 40, [2]float64{1, 1}, [2]float64{1, 2}, rng)
	if top != 0 || h != 10 || w != 20 || left != 10 {
		t.Errorf("fallback box (%d, %d, %d, %d), want (0, 10, 10, 20)", top, left, h, w)
	}
}

func TestAugmentDeterminism(t *testing.T) {
	augment, _ := ParseAugment("resized-crop,crop,flip")
	p, err := NewPipeline(3, 12, 10, augment, []float64{0, 0, 0}, []float64{1, 1, 1})
	if err != nil {
		t.Fatal(err)
	}
	run := func(seed uint64, epoch, index int) []float32 {
		a := augmenter{p: p}
		x := ramp(3, 12, 10)
		rng := augRNG(seed, epoch, index)
		a.apply(x, &rng)
		if len(x) != 3*12*10 {
			t.Fatalf("output has %d values, want the input size", len(x))
		}
		return x
	}
	if !slices.Equal(run(1, 2, 3), run(1, 2, 3)) {
		t.Error("same (seed, epoch, index), different images")
	}
	differs := 0
	for i := range 20 {
		for _, other := range [][]float32{run(2, 2, i), run(1, 3, i), run(1, 2, i+1)} {
			if !slices.Equal(run(1, 2, i), other) {
				differs++
			}
		}
	}
	if differs < 55 {
		t.Errorf("only %d of 60 changes of seed, epoch or index changed the image", differs)
	}
	// Flip with p = 0.5 flips about half the examples.
	flip, _ := NewPipeline(1, 2, 2, []Augment{{Op: OpRandomHorizontalFlip}}, []float64{0}, []float64{1})
	flipped := 0
	for i := range 1000 {
		a := augmenter{p: flip}
		x := []float32{1, 2, 3, 4}
		rng := augRNG(9, 0, i)
		a.apply(x, &rng)
		if x[0] == 2 {
			flipped++
		}
	}
	if flipped < 450 || flipped > 550 {
		t.Errorf("%d of 1000 flipped with p = 0.5", flipped)
	}
}
