package train

import (
	"fmt"
	"slices"
	"sort"

	"github.com/tapeml/tapeml/graph"
	"github.com/tapeml/tapeml/safetensors"
)

// CheckShapes compares a weight file's tensors with the parameters a model
// will create (graph.ParamShapes) before the model allocates them,
// so that a configuration asking for a vocabulary of billions fails here,
// naming each missing, unexpected or mis-shaped tensor as LoadWeights
// would, instead of exhausting memory. from names the weight file.
func CheckShapes(specs []graph.ParamSpec, ts []safetensors.Tensor, from string) error {
	byName := make(map[string]safetensors.Tensor, len(ts))
	for _, t := range ts {
		byName[t.Name] = t
	}
	var problems []string
	for _, s := range specs {
		t, ok := byName[s.Name]
		if !ok {
			problems = append(problems, fmt.Sprintf("missing %q %v", s.Name, s.Shape))
			continue
		}
		delete(byName, s.Name)
		if !slices.Equal(t.Shape, s.Shape) {
			problems = append(problems, fmt.Sprintf("%q has shape %v, the model expects %v", s.Name, t.Shape, s.Shape))
		}
	}
	extra := make([]string, 0, len(byName))
	for name := range byName {
		extra = append(extra, name)
	}
	sort.Strings(extra)
	for _, name := range extra {
		problems = append(problems, fmt.Sprintf("unexpected tensor %q", name))
	}
	if len(problems) > 0 {
		return fmt.Errorf("%s: weights do not fit the model: %s", from, join(problems))
	}
	return nil
}

// CheckModelShapes is CheckShapes for the parameters m's Build creates,
// found without allocating them (graph.ParamShapes). Call it between
// decoding a model's config and materializing its parameters.
func CheckModelShapes(m Model, ts []safetensors.Tensor, from string) error {
	specs, err := graph.ParamShapes(m.Build)
	if err != nil {
		return fmt.Errorf("%s: %w", from, err)
	}
	return CheckShapes(specs, ts, from)
}
