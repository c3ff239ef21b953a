package api

import (
	"fmt"
	"slices"
)

// Datatypes, as the Open Inference Protocol names them.
const (
	BYTES = "BYTES" // strings or encoded files, one per element
	FP32  = "FP32"
	INT32 = "INT32"
)

// Tensor is a named tensor. Exactly the slice of its Datatype holds its
// elements, row-major, len = the product of Shape.
type Tensor struct {
	Name     string
	Datatype string
	Shape    []int64
	Bytes    [][]byte  // BYTES
	FP32     []float32 // FP32
	INT32    []int32   // INT32
}

// Strings is a BYTES tensor [len(s)] of texts.
func Strings(name string, s []string) Tensor {
	b := make([][]byte, len(s))
	for i, v := range s {
		b[i] = []byte(v)
	}
	return Tensor{Name: name, Datatype: BYTES, Shape: []int64{int64(len(s))}, Bytes: b}
}

// Len is the number of elements the tensor holds.
func (t *Tensor) Len() int {
	switch t.Datatype {
	case BYTES:
		return len(t.Bytes)
	case FP32:
		return len(t.FP32)
	case INT32:
		return len(t.INT32)
	}
	return 0
}

// Rows is the size of the first dimension (1 for a scalar).
func (t *Tensor) Rows() int {
	if len(t.Shape) == 0 {
		return 1
	}
	return int(t.Shape[0])
}

// StringsOf returns a BYTES tensor's elements as strings.
func (t *Tensor) StringsOf() []string {
	s := make([]string, len(t.Bytes))
	for i, b := range t.Bytes {
		s[i] = string(b)
	}
	return s
}

// TensorSpec describes one input or output of a model. -1 in Shape marks a
// dimension of any size; the first dimension of a batched tensor is -1.
type TensorSpec struct {
	Name     string
	Datatype string
	Shape    []int64
	// Doc says what the tensor holds, for metadata and error messages.
	Doc string
	// Binary marks BYTES elements that are files (images), which JSON
	// carries in base64, rather than text.
	Binary bool
}

// Batched reports whether the tensor's first dimension counts examples.
func (s TensorSpec) Batched() bool { return len(s.Shape) > 0 && s.Shape[0] == -1 }

// Signature lists a model's inputs and outputs. A request gives one of the
// input groups (a classifier of images takes "images" or "image"); Groups
// lists them, each a set of input names given together.
type Signature struct {
	Inputs  []TensorSpec
	Outputs []TensorSpec
	Groups  [][]string
	// Batchable says that requests may be merged along the first dimension
	// of every input and split back along that of every output: their
	// examples are independent.
	Batchable bool
}

// Input returns the spec of the input called name.
func (s Signature) Input(name string) (TensorSpec, bool) {
	i := slices.IndexFunc(s.Inputs, func(t TensorSpec) bool { return t.Name == name })
	if i < 0 {
		return TensorSpec{}, false
	}
	return s.Inputs[i], true
}

// Takes reports whether the model takes an input called name.
func (s Signature) Takes(name string) bool {
	_, ok := s.Input(name)
	return ok
}

// InputNames lists the inputs' names.
func (s Signature) InputNames() []string {
	names := make([]string, len(s.Inputs))
	for i, t := range s.Inputs {
		names[i] = t.Name
	}
	return names
}

// Group returns the input group that the given names make up exactly, or
// an error that lists the groups.
func (s Signature) Group(names []string) ([]string, error) {
	for _, g := range s.Groups {
		if len(g) == len(names) && !slices.ContainsFunc(names, func(n string) bool { return !slices.Contains(g, n) }) {
			return g, nil
		}
	}
	return nil, fmt.Errorf("inputs %q: the model takes %s", names, s.groupsText())
}

func (s Signature) groupsText() string {
	out := ""
	for i, g := range s.Groups {
		if i > 0 {
			out += " or "
		}
		out += fmt.Sprintf("%q", g)
	}
	return out
}

// Check verifies a tensor against its spec: datatype, rank, fixed
// dimensions, and that it holds as many elements as its shape says.
func (s TensorSpec) Check(t *Tensor) error {
	if t.Datatype != s.Datatype {
		return fmt.Errorf("input %q: datatype %s, want %s", t.Name, t.Datatype, s.Datatype)
	}
	if len(t.Shape) != len(s.Shape) {
		return fmt.Errorf("input %q: shape %v, want %v", t.Name, t.Shape, s.Shape)
	}
	n := int64(1)
	for i, d := range t.Shape {
		if d < 0 || (s.Shape[i] >= 0 && d != s.Shape[i]) {
			return fmt.Errorf("input %q: shape %v, want %v", t.Name, t.Shape, s.Shape)
		}
		n *= d
	}
	if int64(t.Len()) != n {
		return fmt.Errorf("input %q: %d elements for shape %v", t.Name, t.Len(), t.Shape)
	}
	return nil
}

// InputError is an error in a model's input — the caller's to fix, not
// the model's: a server answers it with 400.
type InputError struct{ Err error }

func (e *InputError) Error() string { return e.Err.Error() }
func (e *InputError) Unwrap() error { return e.Err }

// Invalid marks err as an InputError (nil stays nil).
func Invalid(err error) error {
	if err == nil {
		return nil
	}
	return &InputError{Err: err}
}

// NonFiniteError is a model output that is NaN or infinite — the weights
// overflow on this input, or are broken. It is an error, never an
// answer: a server answers it 500, a command exits with an error.
type NonFiniteError struct {
	Output  string  // the output's name ("" for a network's raw output)
	Example int     // the example (row) it belongs to
	Value   float32 // NaN, +Inf or −Inf
}

func (e *NonFiniteError) Error() string {
	what := "the model's output"
	if e.Output != "" {
		what = fmt.Sprintf("the model's output %q", e.Output)
	}
	return fmt.Sprintf("%s is not finite (%v) for example %d", what, e.Value, e.Example)
}

// CheckFinite returns a *NonFiniteError for the first NaN or infinite
// value of x, whose rows are width values each (example numbers start at
// first), or nil.
func CheckFinite(output string, x []float32, width, first int) error {
	for i, v := range x {
		if v-v != 0 { // NaN or ±Inf
			return &NonFiniteError{Output: output, Example: first + i/max(width, 1), Value: v}
		}
	}
	return nil
}

// Cost is what answering some inputs will take, known from the inputs
// alone before any of the work — what a server bounds per request.
type Cost struct {
	// Pixels counts the pixels of image files once decoded, plus those of
	// the buffers they are resized into.
	Pixels int64
	// Outputs counts the values of the answer beyond one row per example
	// (a recommendation's items and scores).
	Outputs int64
}
