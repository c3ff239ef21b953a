package imagedata

import "github.com/tapeml/tapeml/dataset"

// BuiltinSample names the built-in Fashion-MNIST sample (package samples registers it): a data path of that name reads it, and the runs
// trained on it record it. Programs that read it link package samples.
const BuiltinSample = dataset.BuiltinPrefix + "fashion-mnist-sample"
