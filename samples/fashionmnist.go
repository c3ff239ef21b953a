package samples

import (
	"embed"
	"fmt"

	"github.com/tapeml/tapeml/imagedata"
)

// fashionMNISTDir holds the sample's four IDX files, as Fashion-MNIST names
// them; tools/mkimagesample writes them.
const fashionMNISTDir = "fashionmnist"

//go:embed fashionmnist/*.gz
var fashionMNISTFiles embed.FS

// FashionMNIST returns the built-in image sample: 5,000 Fashion-MNIST
// images (28×28 grayscale, 10 classes), split as opt says (opt.Seed,
// opt.ValFraction; opt.Format and opt.Classes are the sample's). The zero
// options give imagedata's default split with seed 0: the 1,000 test
// images as the test split, and 10% of the 4,000 training images,
// stratified, as validation — 3,600 / 400 / 1,000, every class equally.
// Classes are imagedata.FashionMNISTClasses.
func FashionMNIST(opt imagedata.Options) (*imagedata.Set, error) {
	opt.Format, opt.Classes = imagedata.FormatIDX, imagedata.FashionMNISTClasses
	set, err := imagedata.LoadFS(fashionMNISTFiles, fashionMNISTDir, "samples/"+fashionMNISTDir, opt)
	if err != nil {
		return nil, fmt.Errorf("samples: %w", err)
	}
	return set, nil
}
