package checkpoint

import (
	"bytes"
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

// CheckBuild is CheckShapes for the parameters build creates, found
// without allocating them (graph.ParamShapes). Call it between decoding a
// model's config and materializing its parameters.
func CheckBuild(build graph.BuildFunc, ts []safetensors.Tensor, from string) error {
	specs, err := graph.ParamShapes(build)
	if err != nil {
		return fmt.Errorf("%s: %w", from, err)
	}
	return CheckShapes(specs, ts, from)
}

// Weights returns every parameter, buffers included, as float32 tensors
// under its state_dict name, in state_dict order.
func Weights(params *graph.Params) []safetensors.Tensor {
	var ts []safetensors.Tensor
	for _, p := range params.List() {
		if p.Counter {
			v := p.Value.Float32s()
			ints := make([]int64, len(v))
			for i, x := range v {
				ints[i] = int64(x)
			}
			ts = append(ts, safetensors.I64(p.Name, p.Shape(), ints))
			continue
		}
		ts = append(ts, safetensors.F32(p.Name, p.Shape(), p.Value.Float32s()))
	}
	return ts
}

// LoadWeights copies tensors into params by name. Every parameter must be
// present with its shape, and no tensor may be left over; each mismatch is
// named (CheckShapes). from names the file, for the error.
func LoadWeights(params *graph.Params, ts []safetensors.Tensor, from string) error {
	if err := CheckShapes(params.Specs(), ts, from); err != nil {
		return err
	}
	byName := make(map[string]safetensors.Tensor, len(ts))
	for _, t := range ts {
		byName[t.Name] = t
	}
	var problems []string
	for _, p := range params.List() {
		t := byName[p.Name]
		if p.Counter {
			v, err := t.Int64s()
			if err != nil {
				problems = append(problems, fmt.Sprintf("%q: %v", p.Name, err))
				continue
			}
			dst := p.Value.Float32s()
			for i, x := range v {
				dst[i] = float32(x)
			}
			continue
		}
		v, err := t.Float32s()
		if err != nil {
			problems = append(problems, fmt.Sprintf("%q: %v", p.Name, err))
			continue
		}
		copy(p.Value.Float32s(), v)
	}
	if len(problems) > 0 {
		return fmt.Errorf("%s: weights do not fit the model: %s", from, join(problems))
	}
	return nil
}

func join(s []string) string {
	var b bytes.Buffer
	for i, p := range s {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(p)
	}
	return b.String()
}
