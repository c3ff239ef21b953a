package kinds

import (
	"fmt"
	"os"

	"github.com/tapeml/tapeml/imagedata"
	"github.com/tapeml/tapeml/models/convnet"
	"github.com/tapeml/tapeml/samples"
)

// BuiltinImages names the compiled-in Fashion-MNIST sample in checkpoints.
const BuiltinImages = "builtin:fashion-mnist-sample"

// ImageSource says where an image run's data came from, so evaluation
// finds the same test split again.
type ImageSource struct {
	Path   string           `json:"path"` // a folder, or BuiltinImages
	Format imagedata.Format `json:"format,omitempty"`
	Seed   uint64           `json:"seed"`
}

// ImageRun is an image checkpoint's model_config.
type ImageRun struct {
	Model convnet.Config `json:"model"`
	Data  ImageSource    `json:"data"`
}

// ImagePreprocessing is an image checkpoint's preprocessing: the
// evaluation pipeline (so prediction preprocesses as evaluation did), the
// class names, and the training augmentation (so a resumed run augments
// as the original did).
type ImagePreprocessing struct {
	Pipeline imagedata.Pipeline  `json:"pipeline"`
	Classes  []string            `json:"classes"`
	Augment  []imagedata.Augment `json:"augment,omitempty"`
}

// Load reads the image set.
func (s ImageSource) Load() (*imagedata.Set, error) {
	opt := imagedata.Options{Format: s.Format, Seed: s.Seed}
	if s.Path == BuiltinImages {
		return samples.FashionMNISTWith(opt)
	}
	if s.Path == "" {
		return nil, fmt.Errorf("--data is empty: give a folder")
	}
	if _, err := os.Stat(s.Path); err != nil {
		return nil, fmt.Errorf("--data %s: no such folder", s.Path)
	}
	return imagedata.Load(s.Path, opt)
}
