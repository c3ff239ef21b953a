package onnx

import (
	"fmt"
	"slices"
)

// Field numbers from onnx.proto, for the messages of the subset.
const (
	modelIRVersion       = 1
	modelProducerName    = 2
	modelProducerVersion = 3
	modelDomain          = 4
	modelModelVersion    = 5
	modelDocString       = 6
	modelGraph           = 7
	modelOpsetImport     = 8
	modelMetadataProps   = 14

	opsetDomain  = 1
	opsetVersion = 2

	entryKey   = 1
	entryValue = 2

	graphNode        = 1
	graphName        = 2
	graphInitializer = 5
	graphDocString   = 10
	graphInput       = 11
	graphOutput      = 12
	graphValueInfo   = 13

	nodeInput     = 1
	nodeOutput    = 2
	nodeName      = 3
	nodeOpType    = 4
	nodeAttribute = 5
	nodeDocString = 6
	nodeDomain    = 7

	attrName      = 1
	attrF         = 2
	attrI         = 3
	attrS         = 4
	attrT         = 5
	attrFloatList = 7
	attrIntList   = 8
	attrStrList   = 9
	attrDocString = 13
	attrType      = 20

	tensorDims      = 1
	tensorDataType  = 2
	tensorFloatData = 4
	tensorInt32Data = 5
	tensorInt64Data = 7
	tensorName      = 8
	tensorRawData   = 9
	tensorDocString = 12

	valueName      = 1
	valueType      = 2
	valueDocString = 3

	typeTensor       = 1
	tensorTypeElem   = 1
	tensorTypeShape  = 2
	shapeDim         = 1
	dimValue         = 1
	dimParam         = 2
	unknownDimension = -1
)

// Marshal returns the model's protobuf encoding, the bytes of a .onnx
// file. Fields are written in field-number order and unset optional fields
// are left out, so the bytes are those the reference protobuf library
// writes for the same message. It checks what would make a file that
// runtimes reject with a less helpful message: initializers without a name
// or whose data disagrees with their dims, unnamed inputs and outputs, and
// empty metadata keys.
func (m *Model) Marshal() ([]byte, error) {
	if err := m.check(); err != nil {
		return nil, fmt.Errorf("onnx: marshal: %w", err)
	}
	var e encoder
	e.optInt64(modelIRVersion, m.IRVersion)
	e.optString(modelProducerName, m.ProducerName)
	e.optString(modelProducerVersion, m.ProducerVersion)
	e.optString(modelDomain, m.Domain)
	e.optInt64(modelModelVersion, m.ModelVersion)
	e.optString(modelDocString, m.DocString)
	e.message(modelGraph, m.Graph.encode)
	for _, o := range m.OpsetImports {
		e.message(modelOpsetImport, func(e *encoder) {
			e.string(opsetDomain, o.Domain) // onnx.helper sets it even when empty
			e.int64(opsetVersion, o.Version)
		})
	}
	keys := make([]string, 0, len(m.Metadata))
	for k := range m.Metadata {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		e.message(modelMetadataProps, func(e *encoder) {
			e.string(entryKey, k)
			e.string(entryValue, m.Metadata[k])
		})
	}
	return e.b, nil
}

// check reports the first problem Marshal refuses.
func (m *Model) check() error {
	for k := range m.Metadata {
		if k == "" {
			return fmt.Errorf("metadata has an empty key")
		}
	}
	g := &m.Graph
	for i := range g.Initializers {
		t := &g.Initializers[i]
		if t.Name == "" {
			return fmt.Errorf("graph %q: initializer %d has no name", g.Name, i)
		}
		n, err := t.numel()
		if err != nil {
			return fmt.Errorf("graph %q: %w", g.Name, err)
		}
		if size := t.DataType.size(); t.RawData != nil && size > 0 && int64(len(t.RawData)) != n*int64(size) {
			return fmt.Errorf("graph %q: initializer %q: %v × dims %v is %d bytes, raw_data has %d",
				g.Name, t.Name, t.DataType, t.Dims, n*int64(size), len(t.RawData))
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

func (g *Graph) encode(e *encoder) {
	for i := range g.Nodes {
		e.message(graphNode, g.Nodes[i].encode)
	}
	e.optString(graphName, g.Name)
	for i := range g.Initializers {
		e.message(graphInitializer, g.Initializers[i].encode)
	}
	e.optString(graphDocString, g.DocString)
	for _, list := range []struct {
		field int
		vs    []ValueInfo
	}{{graphInput, g.Inputs}, {graphOutput, g.Outputs}, {graphValueInfo, g.ValueInfo}} {
		for i := range list.vs {
			e.message(list.field, list.vs[i].encode)
		}
	}
}

func (n *Node) encode(e *encoder) {
	for _, s := range n.Inputs {
		e.string(nodeInput, s) // empty names mark omitted optional inputs and must stay
	}
	for _, s := range n.Outputs {
		e.string(nodeOutput, s)
	}
	e.optString(nodeName, n.Name)
	e.optString(nodeOpType, n.OpType)
	for i := range n.Attributes {
		e.message(nodeAttribute, n.Attributes[i].encode)
	}
	e.optString(nodeDocString, n.DocString)
	e.optString(nodeDomain, n.Domain)
}

// encode writes the value field Type names even when it is zero, as
// onnx.helper.make_attribute does (an INT attribute of 0 is still "set").
func (a *Attribute) encode(e *encoder) {
	e.optString(attrName, a.Name)
	switch a.Type {
	case AttrFloat:
		e.float32(attrF, a.F)
	case AttrInt:
		e.int64(attrI, a.I)
	case AttrString:
		e.bytes(attrS, a.S)
	case AttrTensor:
		if a.T != nil {
			e.message(attrT, a.T.encode)
		}
	}
	for _, f := range a.Floats {
		e.float32(attrFloatList, f) // proto2 repeated, not packed
	}
	for _, i := range a.Ints {
		e.int64(attrIntList, i)
	}
	for _, s := range a.Strings {
		e.bytes(attrStrList, s)
	}
	e.optString(attrDocString, a.DocString)
	if a.Type != 0 {
		e.int64(attrType, int64(a.Type))
	}
}

func (t *Tensor) encode(e *encoder) {
	for _, d := range t.Dims {
		e.int64(tensorDims, d) // proto2 repeated, not packed
	}
	e.int64(tensorDataType, int64(t.DataType))
	e.packedFloat32s(tensorFloatData, t.FloatData)
	e.packedInt32s(tensorInt32Data, t.Int32Data)
	e.packedInt64s(tensorInt64Data, t.Int64Data)
	e.optString(tensorName, t.Name)
	if t.RawData != nil {
		e.bytes(tensorRawData, t.RawData)
	}
	e.optString(tensorDocString, t.DocString)
}

func (v *ValueInfo) encode(e *encoder) {
	e.optString(valueName, v.Name)
	e.message(valueType, func(e *encoder) {
		e.message(typeTensor, func(e *encoder) {
			e.int64(tensorTypeElem, int64(v.ElemType))
			if v.Shape == nil {
				return
			}
			e.message(tensorTypeShape, func(e *encoder) {
				for _, d := range v.Shape {
					e.message(shapeDim, d.encode)
				}
			})
		})
	})
	e.optString(valueDocString, v.DocString)
}

func (d Dim) encode(e *encoder) {
	switch {
	case d.Param != "":
		e.string(dimParam, d.Param)
	case d.Value != unknownDimension:
		e.int64(dimValue, d.Value)
	}
}
