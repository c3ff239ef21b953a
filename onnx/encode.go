package onnx

import (
	"encoding/binary"
	"fmt"
	"math"
	"slices"

	"google.golang.org/protobuf/encoding/protowire"
)

// Field numbers from onnx.proto (github.com/onnx/onnx, onnx/onnx.proto),
// by message, for the fields of the subset.
const (
	// ModelProto
	modelIRVersion       = 1  // ir_version
	modelProducerName    = 2  // producer_name
	modelProducerVersion = 3  // producer_version
	modelDomain          = 4  // domain
	modelModelVersion    = 5  // model_version
	modelDocString       = 6  // doc_string
	modelGraph           = 7  // graph
	modelOpsetImport     = 8  // opset_import
	modelMetadataProps   = 14 // metadata_props

	// OperatorSetIdProto
	opsetDomain  = 1 // domain
	opsetVersion = 2 // version

	// StringStringEntryProto
	entryKey   = 1 // key
	entryValue = 2 // value

	// GraphProto
	graphNode        = 1  // node
	graphName        = 2  // name
	graphInitializer = 5  // initializer
	graphDocString   = 10 // doc_string
	graphInput       = 11 // input
	graphOutput      = 12 // output
	graphValueInfo   = 13 // value_info

	// NodeProto
	nodeInput     = 1 // input
	nodeOutput    = 2 // output
	nodeName      = 3 // name
	nodeOpType    = 4 // op_type
	nodeAttribute = 5 // attribute
	nodeDocString = 6 // doc_string
	nodeDomain    = 7 // domain

	// AttributeProto
	attrName      = 1  // name
	attrF         = 2  // f
	attrI         = 3  // i
	attrS         = 4  // s
	attrT         = 5  // t
	attrFloatList = 7  // floats
	attrIntList   = 8  // ints
	attrStrList   = 9  // strings
	attrDocString = 13 // doc_string
	attrType      = 20 // type

	// TensorProto
	tensorDims      = 1  // dims
	tensorDataType  = 2  // data_type
	tensorFloatData = 4  // float_data
	tensorInt32Data = 5  // int32_data
	tensorInt64Data = 7  // int64_data
	tensorName      = 8  // name
	tensorRawData   = 9  // raw_data
	tensorDocString = 12 // doc_string

	// ValueInfoProto
	valueName      = 1 // name
	valueType      = 2 // type
	valueDocString = 3 // doc_string

	typeTensor      = 1 // TypeProto.tensor_type
	tensorTypeElem  = 1 // TypeProto.Tensor.elem_type
	tensorTypeShape = 2 // TypeProto.Tensor.shape
	shapeDim        = 1 // TensorShapeProto.dim
	dimValue        = 1 // TensorShapeProto.Dimension.dim_value
	dimParam        = 2 // TensorShapeProto.Dimension.dim_param
)

// Marshal returns the model's protobuf encoding, the bytes of a .onnx
// file. Each message writes its fields in field-number order and leaves
// unset optional fields out, so the bytes are those the reference protobuf
// library writes for the same message. It checks what would make a file that
// runtimes reject with a less helpful message: initializers without a name
// or whose data disagrees with their dims, unnamed inputs and outputs, and
// empty metadata keys.
func (m *Model) Marshal() ([]byte, error) {
	if err := m.check(); err != nil {
		return nil, fmt.Errorf("onnx: marshal: %w", err)
	}
	return m.appendTo(nil), nil
}

// maxInitializerBytes bounds the initializers' data in one file: a
// protobuf message is at most 2 GiB − 1, and ONNX Runtime refuses a
// larger model file. tapeml writes no external data, so a model over it
// has no ONNX form. A variable so that a test can lower it.
var maxInitializerBytes int64 = 1<<31 - 1

// check reports the first problem Marshal refuses.
func (m *Model) check() error {
	for k := range m.Metadata {
		if k == "" {
			return fmt.Errorf("metadata has an empty key")
		}
	}
	g := &m.Graph
	var total int64 // the initializers' bytes so far
	for i := range g.Initializers {
		t := &g.Initializers[i]
		if t.Name == "" {
			return fmt.Errorf("graph %q: initializer %d has no name", g.Name, i)
		}
		n, err := t.numel()
		if err != nil {
			return fmt.Errorf("graph %q: %w", g.Name, err)
		}
		size := int64(t.DataType.size())
		if t.RawData != nil && size > 0 && int64(len(t.RawData)) != n*size {
			return fmt.Errorf("graph %q: initializer %q: %v × dims %v is %d bytes, raw_data has %d",
				g.Name, t.Name, t.DataType, t.Dims, n*size, len(t.RawData))
		}
		if size > 0 && n > maxInitializerBytes/size {
			n = maxInitializerBytes/size + 1 // the total is over the limit; do not overflow it
		}
		if total += n * size; total > maxInitializerBytes {
			return fmt.Errorf("graph %q: the weights need more than %d bytes, over protobuf's limit of 2 GiB on an ONNX file (tapeml writes no external data)",
				g.Name, maxInitializerBytes)
		}
	}
	for _, vs := range [][]ValueInfo{g.Inputs, g.Outputs} {
		for i, v := range vs {
			if v.Name == "" {
				return fmt.Errorf("graph %q: input or output %d has no name", g.Name, i)
			}
		}
	}
	return nil
}

func (m *Model) appendTo(b []byte) []byte {
	b = appendOptInt64(b, modelIRVersion, m.IRVersion)
	b = appendOptString(b, modelProducerName, m.ProducerName)
	b = appendOptString(b, modelProducerVersion, m.ProducerVersion)
	b = appendOptString(b, modelDomain, m.Domain)
	b = appendOptInt64(b, modelModelVersion, m.ModelVersion)
	b = appendOptString(b, modelDocString, m.DocString)
	b = appendDelimited(b, modelGraph, m.Graph.appendTo)
	for _, o := range m.OpsetImports {
		b = appendDelimited(b, modelOpsetImport, func(b []byte) []byte {
			b = appendString(b, opsetDomain, o.Domain) // onnx.helper sets it even when empty
			return appendInt64(b, opsetVersion, o.Version)
		})
	}
	keys := make([]string, 0, len(m.Metadata))
	for k := range m.Metadata {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		b = appendDelimited(b, modelMetadataProps, func(b []byte) []byte {
			b = appendString(b, entryKey, k)
			return appendString(b, entryValue, m.Metadata[k])
		})
	}
	return b
}

func (g *Graph) appendTo(b []byte) []byte {
	for i := range g.Nodes {
		b = appendDelimited(b, graphNode, g.Nodes[i].appendTo)
	}
	b = appendOptString(b, graphName, g.Name)
	for i := range g.Initializers {
		b = appendDelimited(b, graphInitializer, g.Initializers[i].appendTo)
	}
	b = appendOptString(b, graphDocString, g.DocString)
	for i := range g.Inputs {
		b = appendDelimited(b, graphInput, g.Inputs[i].appendTo)
	}
	for i := range g.Outputs {
		b = appendDelimited(b, graphOutput, g.Outputs[i].appendTo)
	}
	for i := range g.ValueInfo {
		b = appendDelimited(b, graphValueInfo, g.ValueInfo[i].appendTo)
	}
	return b
}

func (n *Node) appendTo(b []byte) []byte {
	for _, s := range n.Inputs {
		b = appendString(b, nodeInput, s) // empty names mark omitted optional inputs and must stay
	}
	for _, s := range n.Outputs {
		b = appendString(b, nodeOutput, s)
	}
	b = appendOptString(b, nodeName, n.Name)
	b = appendOptString(b, nodeOpType, n.OpType)
	for i := range n.Attributes {
		b = appendDelimited(b, nodeAttribute, n.Attributes[i].appendTo)
	}
	b = appendOptString(b, nodeDocString, n.DocString)
	return appendOptString(b, nodeDomain, n.Domain)
}

// appendTo writes the value field Type names even when it is zero, as
// onnx.helper.make_attribute does (an INT attribute of 0 is still "set").
func (a *Attribute) appendTo(b []byte) []byte {
	b = appendOptString(b, attrName, a.Name)
	switch a.Type {
	case AttrFloat:
		b = appendFloat32(b, attrF, a.F)
	case AttrInt:
		b = appendInt64(b, attrI, a.I)
	case AttrString:
		b = appendBytes(b, attrS, a.S)
	case AttrTensor:
		if a.T != nil {
			b = appendDelimited(b, attrT, a.T.appendTo)
		}
	}
	for _, f := range a.Floats {
		b = appendFloat32(b, attrFloatList, f) // proto2 repeated, not packed
	}
	for _, i := range a.Ints {
		b = appendInt64(b, attrIntList, i)
	}
	for _, s := range a.Strings {
		b = appendBytes(b, attrStrList, s)
	}
	b = appendOptString(b, attrDocString, a.DocString)
	if a.Type != 0 {
		b = appendInt64(b, attrType, int64(a.Type))
	}
	return b
}

func (t *Tensor) appendTo(b []byte) []byte {
	for _, d := range t.Dims {
		b = appendInt64(b, tensorDims, d) // proto2 repeated, not packed
	}
	b = appendInt64(b, tensorDataType, int64(t.DataType))
	if len(t.FloatData) > 0 {
		b = appendDelimited(b, tensorFloatData, func(b []byte) []byte { // [packed = true]
			for _, x := range t.FloatData {
				b = protowire.AppendFixed32(b, math.Float32bits(x))
			}
			return b
		})
	}
	if len(t.Int32Data) > 0 {
		b = appendDelimited(b, tensorInt32Data, func(b []byte) []byte { // [packed = true]
			for _, x := range t.Int32Data {
				b = protowire.AppendVarint(b, uint64(int64(x))) // sign-extended: a negative int32 takes ten bytes
			}
			return b
		})
	}
	if len(t.Int64Data) > 0 {
		b = appendDelimited(b, tensorInt64Data, func(b []byte) []byte { // [packed = true]
			for _, x := range t.Int64Data {
				b = protowire.AppendVarint(b, uint64(x))
			}
			return b
		})
	}
	b = appendOptString(b, tensorName, t.Name)
	if t.RawData != nil {
		b = appendBytes(b, tensorRawData, t.RawData)
	}
	return appendOptString(b, tensorDocString, t.DocString)
}

// appendTo writes a TypeProto holding a TypeProto.Tensor, the only type
// the subset has.
func (v *ValueInfo) appendTo(b []byte) []byte {
	b = appendOptString(b, valueName, v.Name)
	b = appendDelimited(b, valueType, func(b []byte) []byte {
		return appendDelimited(b, typeTensor, func(b []byte) []byte {
			b = appendInt64(b, tensorTypeElem, int64(v.ElemType))
			if v.Shape == nil {
				return b
			}
			return appendDelimited(b, tensorTypeShape, func(b []byte) []byte {
				for _, d := range v.Shape {
					b = appendDelimited(b, shapeDim, d.appendTo)
				}
				return b
			})
		})
	})
	return appendOptString(b, valueDocString, v.DocString)
}

// appendTo writes dim_param or dim_value (a oneof), or neither for an
// unknown dimension.
func (d Dim) appendTo(b []byte) []byte {
	switch {
	case d.Param != "":
		b = appendString(b, dimParam, d.Param)
	case d.Value != unknownDimension:
		b = appendInt64(b, dimValue, d.Value)
	}
	return b
}

// appendInt64 appends an int64, int32 or enum field. They are plain
// varints, not zigzag: a negative value takes ten bytes.
func appendInt64(b []byte, num protowire.Number, v int64) []byte {
	b = protowire.AppendTag(b, num, protowire.VarintType)
	return protowire.AppendVarint(b, uint64(v))
}

// appendOptInt64 appends an optional varint field unless it is zero.
func appendOptInt64(b []byte, num protowire.Number, v int64) []byte {
	if v == 0 {
		return b
	}
	return appendInt64(b, num, v)
}

func appendFloat32(b []byte, num protowire.Number, v float32) []byte {
	b = protowire.AppendTag(b, num, protowire.Fixed32Type)
	return protowire.AppendFixed32(b, math.Float32bits(v))
}

func appendBytes(b []byte, num protowire.Number, v []byte) []byte {
	b = protowire.AppendTag(b, num, protowire.BytesType)
	return protowire.AppendBytes(b, v)
}

func appendString(b []byte, num protowire.Number, v string) []byte {
	b = protowire.AppendTag(b, num, protowire.BytesType)
	return protowire.AppendString(b, v)
}

// appendOptString appends an optional string field unless it is empty:
// proto2 fields never set are absent from the reference encoding.
func appendOptString(b []byte, num protowire.Number, v string) []byte {
	if v == "" {
		return b
	}
	return appendString(b, num, v)
}

// appendDelimited appends a length-delimited field (a sub-message or a
// packed repeated scalar) whose payload fill appends. fill writes after
// room for the longest length prefix, and the payload then moves back over
// the room left unused: no buffer per message, which matters for
// initializers of tens of megabytes.
func appendDelimited(b []byte, num protowire.Number, fill func([]byte) []byte) []byte {
	b = protowire.AppendTag(b, num, protowire.BytesType)
	start := len(b)
	b = append(b, make([]byte, binary.MaxVarintLen64)...)
	body := len(b)
	b = fill(b)
	n := len(b) - body
	k := len(protowire.AppendVarint(b[:start], uint64(n))) - start // writes into the room; k ≤ MaxVarintLen64
	copy(b[start+k:], b[body:])
	return b[:start+k+n]
}
