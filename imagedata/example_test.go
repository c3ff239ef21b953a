package imagedata_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image"
	"image/png"
	"os"
	"path/filepath"

	"github.com/tapeml/tapeml/imagedata"
)

// writePNG writes a w×h gray image of value v.
func writePNG(path string, w, h int, v uint8) error {
	img := image.NewGray(image.Rect(0, 0, w, h))
	for i := range img.Pix {
		img.Pix[i] = v
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, buf.Bytes(), 0o644)
}

// An image folder: one sub-folder per class, no test split, so 80/10/10.
func ExampleLoad() {
	dir, _ := os.MkdirTemp("", "images")
	defer os.RemoveAll(dir)
	for i := range 10 {
		writePNG(filepath.Join(dir, "circle", fmt.Sprintf("%d.png", i)), 8, 8, uint8(20*i))
		writePNG(filepath.Join(dir, "square", fmt.Sprintf("%d.png", i)), 8, 8, uint8(20*i+10))
	}
	writePNG(filepath.Join(dir, "square", "big.png"), 16, 12, 255) // resized to 8×8

	set, err := imagedata.Load(dir, imagedata.Options{Seed: 1})
	if err != nil {
		fmt.Println(err)
		return
	}
	c, h, w := set.Shape()
	fmt.Println(set.Format, set.Classes, c, h, w)
	fmt.Println("train", set.Train.Len(), "val", set.Val.Len(), "test", set.Test.Len())
	fmt.Println("resized:", set.Resized)

	augment, _ := imagedata.ParseAugment("crop,flip")
	p, _ := set.Pipeline(augment)
	trainSet, _ := imagedata.NewDataset(set.Train, p, 1)    // augmented, a dataset.Dataset
	valSet, _ := imagedata.NewDataset(set.Val, p.Eval(), 1) // not augmented
	fmt.Println(trainSet.Len(), valSet.Len(), p.Shape())
	// Output:
	// folder [circle square] 1 8 8
	// train 17 val 2 test 2
	// resized: 1
	// 17 2 [1 8 8]
}

// The evaluation pipeline is what a checkpoint stores.
func ExamplePipeline() {
	augment, err := imagedata.ParseAugment("resized-crop,flip")
	if err != nil {
		fmt.Println(err)
		return
	}
	p, _ := imagedata.NewPipeline(1, 28, 28, augment, []float64{0.2860}, []float64{0.3530})
	train, _ := json.Marshal(p)
	eval, _ := json.Marshal(p.Eval())
	fmt.Println(string(train))
	fmt.Println(string(eval))

	_, err = imagedata.ParseAugment("crop,blur")
	fmt.Println(err)
	// Output:
	// {"channels":1,"height":28,"width":28,"augment":[{"op":"random_resized_crop","scale":[0.08,1],"ratio":[0.75,1.3333333333333333]},{"op":"random_horizontal_flip","p":0.5}],"mean":[0.286],"std":[0.353]}
	// {"channels":1,"height":28,"width":28,"mean":[0.286],"std":[0.353]}
	// augment list "crop,blur": unknown entry "blur": want crop, resized-crop, flip or none
}

func ExampleLoadImageFile() {
	dir, _ := os.MkdirTemp("", "predict")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "photo.png")
	writePNG(path, 56, 56, 255)

	p := imagedata.Pipeline{Channels: 1, Height: 28, Width: 28, Mean: []float64{0.2860}, Std: []float64{0.3530}}
	x, info, err := imagedata.LoadImageFile(path, p)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%d values, first %.4f; %s\n", len(x), x[0], info.Note(p))
	// Output:
	// 784 values, first 2.0227; resized from 56×56 to the model's 28×28
}
