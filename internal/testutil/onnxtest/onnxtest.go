// Package onnxtest decodes .onnx files back into onnx.Model, so that tests
// can inspect what tapeml exported. It is for tests only: tapeml writes
// ONNX and never reads it. Field numbers are onnx.proto's
// (github.com/onnx/onnx, onnx/onnx.proto), written out here rather than
// shared with the encoder, so that a wrong number in either shows up as a
// failed round trip.
package onnxtest

import (
	"fmt"
	"math"
	"slices"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/tapeml/tapeml/onnx"
)

// Unmarshal decodes the part of a ModelProto that onnx.Model holds and
// skips the rest. Malformed protobuf, a known field of the wrong wire type
// or out of range, and a metadata key given twice are errors naming the
// message. The model does not alias b.
func Unmarshal(b []byte) (*onnx.Model, error) {
	m := &onnx.Model{}
	if err := walk(slices.Clone(b), "ModelProto", func(f *field) { model(m, f) }); err != nil {
		return nil, fmt.Errorf("onnxtest: unmarshal: %w", err)
	}
	return m, nil
}

func model(m *onnx.Model, f *field) {
	switch f.num {
	case 1: // ir_version
		m.IRVersion = f.int64()
	case 2: // producer_name
		m.ProducerName = f.string()
	case 3: // producer_version
		m.ProducerVersion = f.string()
	case 4: // domain
		m.Domain = f.string()
	case 5: // model_version
		m.ModelVersion = f.int64()
	case 6: // doc_string
		m.DocString = f.string()
	case 7: // graph
		m.Graph = onnx.Graph{} // given twice, the last one wins
		f.message("GraphProto", func(f *field) { graph(&m.Graph, f) })
	case 8: // opset_import
		var o onnx.OpsetID
		f.message("OperatorSetIdProto", func(f *field) {
			switch f.num {
			case 1: // domain
				o.Domain = f.string()
			case 2: // version
				o.Version = f.int64()
			}
		})
		m.OpsetImports = append(m.OpsetImports, o)
	case 14: // metadata_props
		var k, v string
		f.message("StringStringEntryProto", func(f *field) {
			switch f.num {
			case 1: // key
				k = f.string()
			case 2: // value
				v = f.string()
			}
		})
		if _, dup := m.Metadata[k]; dup {
			f.fail("metadata key %q appears twice", k)
		}
		if m.Metadata == nil {
			m.Metadata = map[string]string{}
		}
		m.Metadata[k] = v
	}
}

func graph(g *onnx.Graph, f *field) {
	switch f.num {
	case 1: // node
		var n onnx.Node
		f.message(fmt.Sprintf("node[%d]", len(g.Nodes)), func(f *field) { node(&n, f) })
		g.Nodes = append(g.Nodes, n)
	case 2: // name
		g.Name = f.string()
	case 5: // initializer
		var t onnx.Tensor
		f.message(fmt.Sprintf("initializer[%d]", len(g.Initializers)), func(f *field) { tensor(&t, f) })
		g.Initializers = append(g.Initializers, t)
	case 10: // doc_string
		g.DocString = f.string()
	case 11: // input
		g.Inputs = append(g.Inputs, valueInfo(f))
	case 12: // output
		g.Outputs = append(g.Outputs, valueInfo(f))
	case 13: // value_info
		g.ValueInfo = append(g.ValueInfo, valueInfo(f))
	}
}

func node(n *onnx.Node, f *field) {
	switch f.num {
	case 1: // input
		n.Inputs = append(n.Inputs, f.string())
	case 2: // output
		n.Outputs = append(n.Outputs, f.string())
	case 3: // name
		n.Name = f.string()
	case 4: // op_type
		n.OpType = f.string()
	case 5: // attribute
		var a onnx.Attribute
		f.message(fmt.Sprintf("attribute[%d]", len(n.Attributes)), func(f *field) { attribute(&a, f) })
		n.Attributes = append(n.Attributes, a)
	case 6: // doc_string
		n.DocString = f.string()
	case 7: // domain
		n.Domain = f.string()
	}
}

func attribute(a *onnx.Attribute, f *field) {
	switch f.num {
	case 1: // name
		a.Name = f.string()
	case 2: // f
		a.F = f.float32()
	case 3: // i
		a.I = f.int64()
	case 4: // s
		a.S = f.bytes()
	case 5: // t
		a.T = &onnx.Tensor{}
		f.message("TensorProto", func(f *field) { tensor(a.T, f) })
	case 7: // floats
		a.Floats = f.float32s(a.Floats)
	case 8: // ints
		a.Ints = f.int64s(a.Ints)
	case 9: // strings
		a.Strings = append(a.Strings, f.bytes())
	case 13: // doc_string
		a.DocString = f.string()
	case 20: // type
		a.Type = onnx.AttributeType(f.int32())
	}
}

func tensor(t *onnx.Tensor, f *field) {
	switch f.num {
	case 1: // dims
		t.Dims = f.int64s(t.Dims)
	case 2: // data_type
		t.DataType = onnx.DataType(f.int32())
	case 4: // float_data
		t.FloatData = f.float32s(t.FloatData)
	case 5: // int32_data
		for _, v := range f.int64s(nil) {
			if v < math.MinInt32 || v > math.MaxInt32 {
				f.fail("%d does not fit int32", v)
			}
			t.Int32Data = append(t.Int32Data, int32(v))
		}
	case 7: // int64_data
		t.Int64Data = f.int64s(t.Int64Data)
	case 8: // name
		t.Name = f.string()
	case 9: // raw_data
		t.RawData = append([]byte{}, f.bytes()...) // non-nil even when empty: the field is present
	case 12: // doc_string
		t.DocString = f.string()
	}
}

// valueInfo reads a ValueInfoProto; only tensor types are kept.
func valueInfo(f *field) onnx.ValueInfo {
	var v onnx.ValueInfo
	f.message("ValueInfoProto", func(f *field) {
		switch f.num {
		case 1: // name
			v.Name = f.string()
		case 2: // type: TypeProto
			f.message("TypeProto", func(f *field) {
				if f.num != 1 { // tensor_type
					return
				}
				f.message("TypeProto.Tensor", func(f *field) {
					switch f.num {
					case 1: // elem_type
						v.ElemType = onnx.DataType(f.int32())
					case 2: // shape
						v.Shape = []onnx.Dim{}
						f.message("TensorShapeProto", func(f *field) {
							if f.num == 1 { // dim
								v.Shape = append(v.Shape, dim(f))
							}
						})
					}
				})
			})
		case 3: // doc_string
			v.DocString = f.string()
		}
	})
	return v
}

// dim reads a TensorShapeProto.Dimension: dim_value or dim_param (a
// oneof), or neither, which onnx.Dim holds as Value −1.
func dim(f *field) onnx.Dim {
	d := onnx.Dim{Value: -1}
	f.message("Dimension", func(f *field) {
		switch f.num {
		case 1: // dim_value
			d = onnx.Dim{Value: f.int64()}
		case 2: // dim_param
			d = onnx.Dim{Param: f.string()}
		}
	})
	return d
}

// field is one field of a message being walked. Its accessors check the
// wire type and record the first problem in err instead of returning it,
// so that the message functions above stay one line per field.
type field struct {
	num protowire.Number
	typ protowire.Type
	val []byte // the value, after the tag; ConsumeField has checked it is whole
	err error
}

// walk calls visit on each field of the message in b and stops at the
// first error, which it prefixes with what (the message's name).
func walk(b []byte, what string, visit func(*field)) error {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeField(b)
		if n < 0 {
			return fmt.Errorf("%s: %w", what, protowire.ParseError(n))
		}
		_, _, tag := protowire.ConsumeTag(b)
		f := field{num: num, typ: typ, val: b[tag:n]}
		b = b[n:]
		visit(&f)
		if f.err != nil {
			return fmt.Errorf("%s: field %d: %w", what, num, f.err)
		}
	}
	return nil
}

func (f *field) fail(format string, args ...any) {
	if f.err == nil {
		f.err = fmt.Errorf(format, args...)
	}
}

// is reports whether the field has wire type t, recording an error if not.
func (f *field) is(t protowire.Type) bool {
	if f.typ != t {
		f.fail("wire type %d, expected %d", f.typ, t)
	}
	return f.typ == t
}

func (f *field) int64() int64 {
	if !f.is(protowire.VarintType) {
		return 0
	}
	v, _ := protowire.ConsumeVarint(f.val)
	return int64(v)
}

// int32 reads an int32 or enum; a value outside int32 is an error rather
// than silently truncated.
func (f *field) int32() int32 {
	v := f.int64()
	if v < math.MinInt32 || v > math.MaxInt32 {
		f.fail("%d does not fit int32", v)
	}
	return int32(v)
}

func (f *field) float32() float32 {
	if !f.is(protowire.Fixed32Type) {
		return 0
	}
	v, _ := protowire.ConsumeFixed32(f.val)
	return math.Float32frombits(v)
}

func (f *field) bytes() []byte {
	if !f.is(protowire.BytesType) {
		return nil
	}
	v, _ := protowire.ConsumeBytes(f.val)
	return v
}

func (f *field) string() string { return string(f.bytes()) }

// message walks the sub-message the field holds.
func (f *field) message(what string, visit func(*field)) {
	if b := f.bytes(); f.err == nil {
		f.err = walk(b, what, visit)
	}
}

// int64s appends a repeated varint field's values: one when it is sent
// unpacked, all of them when packed. Parsers must accept both, whatever
// the .proto says.
func (f *field) int64s(dst []int64) []int64 {
	if f.typ == protowire.VarintType {
		return append(dst, f.int64())
	}
	b := f.bytes()
	for len(b) > 0 && f.err == nil {
		v, n := protowire.ConsumeVarint(b)
		if n < 0 {
			f.fail("packed varints: %w", protowire.ParseError(n))
			break
		}
		dst, b = append(dst, int64(v)), b[n:]
	}
	return dst
}

// float32s is int64s for a repeated float field.
func (f *field) float32s(dst []float32) []float32 {
	if f.typ == protowire.Fixed32Type {
		return append(dst, f.float32())
	}
	b := f.bytes()
	if len(b)%4 != 0 {
		f.fail("packed floats take %d bytes, not a multiple of 4", len(b))
		return dst
	}
	for ; len(b) > 0; b = b[4:] {
		v, _ := protowire.ConsumeFixed32(b)
		dst = append(dst, math.Float32frombits(v))
	}
	return dst
}

// Top1 is the class a row of logits decides, for comparing two engines'
// answers: a single logit is a binary model's (class 1 when positive),
// more are classes (the first largest on ties, as numpy's argmax).
func Top1[T float32 | float64](l []T) int {
	if len(l) == 1 {
		if l[0] > 0 {
			return 1
		}
		return 0
	}
	best := 0
	for i, v := range l {
		if v > l[best] {
			best = i
		}
	}
	return best
}
