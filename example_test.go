package tapeml_test

import (
	"context"
	"fmt"
	"image"
	"log"

	"github.com/tapeml/tapeml"
)

// Load a checkpoint (or a run folder, or an exported .safetensors file) and
// classify texts; the same *Model may be shared by any number of
// goroutines.
func Example() {
	m, err := tapeml.Load("testdata/legacy/textcnn")
	if err != nil {
		log.Fatal(err)
	}
	preds, err := m.ClassifyTexts(context.Background(), []string{"win free cash now", "meeting tomorrow with the team"})
	if err != nil {
		log.Fatal(err)
	}
	for _, p := range preds {
		fmt.Printf("%s %.3f\n", p.Class, p.Prob)
	}
	// Output:
	// ham 0.550
	// spam 0.555
}

func ExampleModel_ClassifyImages() {
	m, err := tapeml.Load("testdata/legacy/textcnn")
	if err != nil {
		log.Fatal(err)
	}
	// A text model refuses images, naming its kind.
	_, err = m.ClassifyImages(context.Background(), []image.Image{image.NewGray(image.Rect(0, 0, 28, 28))})
	fmt.Println(err)
	// Output:
	// tapeml: ClassifyImages needs an image model (convnet); testdata/legacy/textcnn is a textcnn model
}

func ExampleModel_Recommend() {
	m, err := tapeml.Load("testdata/legacy/mf")
	if err != nil {
		log.Fatal(err)
	}
	recs, err := m.Recommend(context.Background(), "3", 3)
	if err != nil {
		log.Fatal(err)
	}
	for _, r := range recs {
		fmt.Printf("item %s score %.3f\n", r.Item, r.Score)
	}
	ratings, err := m.PredictRatings(context.Background(), []tapeml.UserItem{{User: "3", Item: "26"}})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("user 3 would rate item 26 %.2f\n", ratings[0])
	// Output:
	// item 26 score 0.232
	// item 22 score 0.218
	// item 27 score 0.197
	// user 3 would rate item 26 4.01
}

// Forward takes raw model inputs — here token ids, as EncodeTexts makes
// them — and returns the logits.
func ExampleModel_Forward() {
	m, err := tapeml.Load("testdata/legacy/textcnn")
	if err != nil {
		log.Fatal(err)
	}
	ids, err := m.EncodeTexts([]string{"win free cash now"})
	if err != nil {
		log.Fatal(err)
	}
	logits, err := m.Forward(context.Background(), [][]float32{ids}, 1)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(m.Inputs()[0].Name, m.Inputs()[0].Shape, len(logits), m.OutputWidth())
	// Output:
	// ids [12] 1 1
}
