package checkpoint

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"strings"

	"github.com/tapeml/tapeml/graph"
	"github.com/tapeml/tapeml/safetensors"
)

// An int8 checkpoint (written by `tapeml optimize --int8`, package
// quantize) is an ordinary checkpoint of its kind whose weights file holds,
// for every quantized weight W, instead of W:
//
//	W.int8         I8  [W's shape]  q, symmetric: W ≈ q·scale_row, q in [−127, 127]
//	W.scale        F32 [rows]       one scale per output channel (per row for embeddings)
//	W.input_scale  F32 [1]          convolutions only: the static scale of their input
//
// and the extra file quantization.json records the scheme (Quantization).
// Dequantized gives W dequantized for the float32 graphs and the int8 form
// for the parameters, whose serving graphs then run the int8 kernels.

// QuantizationFile is the extra checkpoint file that marks an int8
// checkpoint.
const QuantizationFile = "quantization.json"

// Quantization describes an int8 checkpoint.
type Quantization struct {
	Format             string            `json:"format"`              // "int8"
	Scheme             string            `json:"scheme"`              // human-readable summary
	CalibrationBatches int               `json:"calibration_batches"` // batches of training data behind the static scales (0: none)
	Tensors            map[string]string `json:"tensors"`             // quantized weight → role (linear, lstm, conv, embedding)
	Source             string            `json:"source,omitempty"`    // the float32 checkpoint it was made from
	// Float32 lists the weights that could have been int8 but were kept
	// in float32 because their layer was not faster in int8 (weight →
	// role); they are stored and served as in a float32 checkpoint.
	// Checkpoints written before the per-layer choice have none.
	Float32 map[string]string `json:"float32,omitempty"`
}

// Tensor-name suffixes of an int8 checkpoint.
const (
	SuffixInt8       = ".int8"
	SuffixScale      = ".scale"
	SuffixInputScale = ".input_scale"
)

// QuantTensors is the int8 checkpoint's tensors for weight name.
func QuantTensors(name string, q *graph.QuantWeight) []safetensors.Tensor {
	data := make([]byte, len(q.Q))
	for i, v := range q.Q {
		data[i] = byte(v)
	}
	ts := []safetensors.Tensor{
		{Name: name + SuffixInt8, Dtype: "I8", Shape: slices.Clone(q.Shape), Data: data},
		safetensors.F32(name+SuffixScale, []int{len(q.Scale)}, q.Scale),
	}
	if q.InputScale > 0 {
		ts = append(ts, safetensors.F32(name+SuffixInputScale, []int{1}, []float32{q.InputScale}))
	}
	return ts
}

// splitQuantized replaces each quantized weight of ts by its dequantized
// F32 tensor and returns the int8 forms by weight name; from names the
// weights file in errors.
func splitQuantized(ts []safetensors.Tensor, info *Quantization, from string) ([]safetensors.Tensor, map[string]*graph.QuantWeight, error) {
	byName := map[string]safetensors.Tensor{}
	for _, t := range ts {
		byName[t.Name] = t
	}
	used := map[string]bool{}
	quant := map[string]*graph.QuantWeight{}
	var out []safetensors.Tensor
	names := make([]string, 0, len(info.Tensors))
	for name := range info.Tensors {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		qt, ok := byName[name+SuffixInt8]
		if !ok {
			return nil, nil, fmt.Errorf("%s: no tensor %q (listed in %s)", from, name+SuffixInt8, QuantizationFile)
		}
		if qt.Dtype != "I8" {
			return nil, nil, fmt.Errorf("%s: tensor %q is %s, expected I8", from, qt.Name, qt.Dtype)
		}
		st, ok := byName[name+SuffixScale]
		if !ok {
			return nil, nil, fmt.Errorf("%s: no tensor %q for %q", from, name+SuffixScale, qt.Name)
		}
		scale, err := st.Float32s()
		if err != nil {
			return nil, nil, fmt.Errorf("%s: tensor %q: %w", from, st.Name, err)
		}
		q := &graph.QuantWeight{Q: make([]int8, len(qt.Data)), Shape: slices.Clone(qt.Shape), Scale: scale}
		for i, b := range qt.Data {
			q.Q[i] = int8(b)
		}
		used[qt.Name], used[st.Name] = true, true
		if it, ok := byName[name+SuffixInputScale]; ok {
			v, err := it.Float32s()
			if err != nil || len(v) != 1 {
				return nil, nil, fmt.Errorf("%s: tensor %q: expected one F32 value (%v)", from, it.Name, err)
			}
			q.InputScale = v[0]
			used[it.Name] = true
			if !(v[0] > 0) || math.IsInf(float64(v[0]), 0) {
				return nil, nil, fmt.Errorf("%s: tensor %q is %v, expected a finite positive scale", from, it.Name, v[0])
			}
		}
		if err := q.Validate(); err != nil {
			return nil, nil, fmt.Errorf("%s: int8 weight %q: %w", from, name, err)
		}
		if _, clash := byName[name]; clash {
			return nil, nil, fmt.Errorf("%s: %q is stored both as float32 and as int8", from, name)
		}
		w := make([]float32, len(q.Q))
		q.Dequantize(w)
		out = append(out, safetensors.F32(name, q.Shape, w))
		quant[name] = q
	}
	for _, t := range ts {
		if used[t.Name] {
			continue
		}
		if strings.HasSuffix(t.Name, SuffixInt8) || strings.HasSuffix(t.Name, SuffixInputScale) {
			return nil, nil, fmt.Errorf("%s: tensor %q is not listed in %s", from, t.Name, QuantizationFile)
		}
		out = append(out, t)
	}
	return out, quant, nil
}

// Dequantized reads an int8 checkpoint's quantization.json, if any, and
// returns a copy of c with dequantized weights, the description and the
// int8 forms by weight name. A float32 checkpoint is returned as it is,
// with a nil description.
func (c *Checkpoint) Dequantized() (*Checkpoint, *Quantization, map[string]*graph.QuantWeight, error) {
	raw, ok := c.Extra[QuantizationFile]
	if !ok {
		return c, nil, nil, nil
	}
	path := filepath.Join(c.Dir, QuantizationFile)
	info := &Quantization{}
	if err := strictJSON(raw, info); err != nil {
		return nil, nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	if info.Format != "int8" {
		return nil, nil, nil, fmt.Errorf("%s: format %q, this tapeml reads \"int8\"", path, info.Format)
	}
	for name, role := range info.Tensors {
		switch role {
		case "linear", "lstm", "conv", "embedding":
		default:
			return nil, nil, nil, fmt.Errorf("%s: tensor %q has role %q, expected linear, lstm, conv or embedding", path, name, role)
		}
	}
	weights, quant, err := splitQuantized(c.Weights, info, filepath.Join(c.Dir, WeightsFile))
	if err != nil {
		return nil, nil, nil, err
	}
	if err := checkFloat32(info, weights, path); err != nil {
		return nil, nil, nil, err
	}
	cc := *c
	cc.Weights = weights
	return &cc, info, quant, nil
}

// checkFloat32 checks info.Float32: roles a weight may have, no weight
// both int8 and float32, each one stored as float32 in weights.
func checkFloat32(info *Quantization, weights []safetensors.Tensor, path string) error {
	stored := map[string]string{}
	for _, t := range weights {
		stored[t.Name] = t.Dtype
	}
	for name, role := range info.Float32 {
		switch role {
		case "linear", "lstm", "conv":
		default:
			return fmt.Errorf("%s: float32 weight %q has role %q, expected linear, lstm or conv", path, name, role)
		}
		if _, both := info.Tensors[name]; both {
			return fmt.Errorf("%s: %q is listed both in tensors and in float32", path, name)
		}
		if dt, ok := stored[name]; !ok || dt != "F32" {
			return fmt.Errorf("%s: float32 weight %q is not stored as an F32 tensor", path, name)
		}
	}
	return nil
}

// QuantizationJSON encodes q for QuantizationFile.
func QuantizationJSON(q *Quantization) ([]byte, error) { return json.MarshalIndent(q, "", "  ") }

// strictJSON decodes, refusing unknown fields so that a misspelt key is
// reported rather than ignored.
func strictJSON(raw []byte, v any) error {
	if len(raw) == 0 {
		return fmt.Errorf("missing")
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}
