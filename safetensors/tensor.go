package safetensors

import (
	"encoding/binary"
	"fmt"
	"math"
	"slices"
)

// Tensor is one named tensor: its dtype ("F32", "I64", ...; see DtypeSize),
// its shape ([] for a scalar such as BatchNorm's num_batches_tracked) and its
// elements as little-endian bytes in row-major order.
type Tensor struct {
	Name  string
	Dtype string
	Shape []int
	Data  []byte
}

// F32 returns a float32 tensor holding a copy of v.
func F32(name string, shape []int, v []float32) Tensor {
	data := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(data[4*i:], math.Float32bits(x))
	}
	return Tensor{Name: name, Dtype: "F32", Shape: slices.Clone(shape), Data: data}
}

// I64 returns an int64 tensor holding a copy of v.
func I64(name string, shape []int, v []int64) Tensor {
	data := make([]byte, 8*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint64(data[8*i:], uint64(x))
	}
	return Tensor{Name: name, Dtype: "I64", Shape: slices.Clone(shape), Data: data}
}

// Float32s decodes an F32 tensor. Any other dtype is an error rather than a
// conversion, so that a checkpoint with unexpected types is noticed.
func (t Tensor) Float32s() ([]float32, error) {
	if err := t.check("F32"); err != nil {
		return nil, err
	}
	v := make([]float32, len(t.Data)/4)
	for i := range v {
		v[i] = math.Float32frombits(binary.LittleEndian.Uint32(t.Data[4*i:]))
	}
	return v, nil
}

// Int64s decodes an I64 tensor.
func (t Tensor) Int64s() ([]int64, error) {
	if err := t.check("I64"); err != nil {
		return nil, err
	}
	v := make([]int64, len(t.Data)/8)
	for i := range v {
		v[i] = int64(binary.LittleEndian.Uint64(t.Data[8*i:]))
	}
	return v, nil
}

// Numel returns the number of elements the shape describes (1 for a scalar).
func (t Tensor) Numel() int {
	n := 1
	for _, d := range t.Shape {
		n *= d
	}
	return n
}

// check reports whether t has dtype want and a byte length matching its
// shape.
func (t Tensor) check(want string) error {
	if t.Dtype != want {
		return fmt.Errorf("tensor %q is %s, not %s", t.Name, t.Dtype, want)
	}
	return t.validate()
}

// validate reports whether t's dtype is known and its byte length matches
// dtype × shape.
func (t Tensor) validate() error {
	n, err := byteLen(t.Dtype, shape64(t.Shape))
	if err != nil {
		return fmt.Errorf("tensor %q: %w", t.Name, err)
	}
	if int64(len(t.Data)) != n {
		return fmt.Errorf("tensor %q: %s × shape %v is %d bytes, but it has %d", t.Name, t.Dtype, t.Shape, n, len(t.Data))
	}
	return nil
}

// Lookup returns the tensor called name in tensors.
func Lookup(tensors []Tensor, name string) (Tensor, bool) {
	for _, t := range tensors {
		if t.Name == name {
			return t, true
		}
	}
	return Tensor{}, false
}
