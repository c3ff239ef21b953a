package graph

import "slices"

// ParamSpec is a parameter's name and shape as a model will create it,
// known from the model's configuration alone: loaders compare a weight
// file's tensors against these before allocating anything, so that a
// configuration asking for billions of values fails on the mismatch
// instead of in the allocator.
type ParamSpec struct {
	Name  string
	Shape []int
	// Counter marks an integral buffer stored as int64 (see Param.Counter).
	Counter bool
	// Role says what kind of layer uses the parameter (see Param.Role).
	Role Role
	// Unit groups weights quantized together (see Param.Unit).
	Unit string
}

// Numel is the number of values the spec describes (1 for a scalar). It
// saturates at the largest int64 instead of wrapping around.
func (s ParamSpec) Numel() int64 {
	n := int64(1)
	for _, d := range s.Shape {
		if d < 0 {
			return 0
		}
		if d != 0 && n > (1<<63-1)/int64(d) {
			return 1<<63 - 1
		}
		n *= int64(d)
	}
	return n
}

// SpecNumel is the total number of values of specs, saturating.
func SpecNumel(specs []ParamSpec) int64 {
	var n int64
	for _, s := range specs {
		if m := s.Numel(); n > 1<<63-1-m {
			return 1<<63 - 1
		} else {
			n += m
		}
	}
	return n
}

// Specs returns the specs of the parameters ps holds, in order: what a
// model's own ParamSpecs must agree with.
func (ps *Params) Specs() []ParamSpec {
	out := make([]ParamSpec, len(ps.list))
	for i, p := range ps.list {
		out[i] = ParamSpec{Name: p.Name, Shape: slices.Clone(p.Shape()), Counter: p.Counter, Role: p.Role, Unit: p.Unit}
	}
	return out
}
