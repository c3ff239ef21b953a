package recsys

import "github.com/tapeml/tapeml/dataset"

// BuiltinSample names the built-in synthetic ratings (package samples registers them): a data path of that name reads it, and the runs
// trained on it record it. Programs that read it link package samples.
const BuiltinSample = dataset.BuiltinPrefix + "synthetic-ratings"
