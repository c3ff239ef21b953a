package onnx

import (
	"encoding/binary"
	"fmt"
	"math"
)

// The versions tapeml's builders write: IR version 7 is the one that goes
// with opset 13 (ONNX 1.8), which every maintained runtime reads.
const (
	IRVersion = 7
	Opset     = 13
	Producer  = "tapeml"
)

// DataType is TensorProto.DataType: a tensor's element type.
type DataType int32

// The element types tapeml's graphs use (and a few a reader may meet).
const (
	Undefined DataType = 0
	Float     DataType = 1
	Uint8     DataType = 2
	Int8      DataType = 3
	Int32     DataType = 6
	Int64     DataType = 7
	String    DataType = 8
	Bool      DataType = 9
	Float16   DataType = 10
	Double    DataType = 11
)

var dataTypeNames = map[DataType]string{
	Undefined: "undefined", Float: "float", Uint8: "uint8", Int8: "int8", Int32: "int32",
	Int64: "int64", String: "string", Bool: "bool", Float16: "float16", Double: "double",
}

func (t DataType) String() string {
	if s, ok := dataTypeNames[t]; ok {
		return s
	}
	return fmt.Sprintf("DataType(%d)", int32(t))
}

// size is the byte width of one element in raw_data, 0 if unknown.
func (t DataType) size() int {
	switch t {
	case Uint8, Int8, Bool:
		return 1
	case Float16:
		return 2
	case Float, Int32:
		return 4
	case Int64, Double:
		return 8
	}
	return 0
}

// AttributeType is AttributeProto.AttributeType: which value field an
// attribute uses.
type AttributeType int32

// The attribute types this package reads and writes. Graph-valued and
// sparse attributes are outside the subset.
const (
	AttrFloat   AttributeType = 1
	AttrInt     AttributeType = 2
	AttrString  AttributeType = 3
	AttrTensor  AttributeType = 4
	AttrFloats  AttributeType = 6
	AttrInts    AttributeType = 7
	AttrStrings AttributeType = 8
)

// Model is the subset of ONNX's ModelProto that tapeml writes. Training
// info, functions, sparse initializers and non-tensor types are outside it.
type Model struct {
	IRVersion       int64
	OpsetImports    []OpsetID
	ProducerName    string
	ProducerVersion string
	Domain          string
	ModelVersion    int64
	DocString       string
	Graph           Graph
	// Metadata is metadata_props, written sorted by key. ONNX runtimes
	// expose it (onnxruntime's session.modelMetadata.customMetadataMap).
	Metadata map[string]string
}

// OpsetID is an operator set the model uses; Domain "" is the default ONNX
// domain.
type OpsetID struct {
	Domain  string
	Version int64
}

// Graph is a GraphProto: nodes in topological order, initializers (the
// weights), and the typed inputs and outputs.
type Graph struct {
	Name         string
	Nodes        []Node
	Initializers []Tensor
	DocString    string
	Inputs       []ValueInfo
	Outputs      []ValueInfo
	ValueInfo    []ValueInfo
}

// Node is a NodeProto: one operator application. An empty input or output
// name stands for an omitted optional one.
type Node struct {
	Inputs     []string
	Outputs    []string
	Name       string
	OpType     string
	Domain     string
	Attributes []Attribute
	DocString  string
}

// Attribute is an AttributeProto; Type says which value field holds the
// value.
type Attribute struct {
	Name      string
	Type      AttributeType
	F         float32
	I         int64
	S         []byte
	T         *Tensor
	Floats    []float32
	Ints      []int64
	Strings   [][]byte
	DocString string
}

// Tensor is a TensorProto. Data is in RawData (little-endian, row-major;
// what tapeml writes) or in the typed field of its DataType.
type Tensor struct {
	Dims      []int64
	DataType  DataType
	FloatData []float32
	Int32Data []int32
	Int64Data []int64
	Name      string
	DocString string
	RawData   []byte // nil when absent
}

// ValueInfo is a ValueInfoProto of tensor type: a graph input's or output's
// name, element type and shape. Shape nil means the rank is unknown; an
// empty non-nil Shape is a scalar.
type ValueInfo struct {
	Name      string
	ElemType  DataType
	Shape     []Dim
	DocString string
}

// Dim is one dimension of a ValueInfo's shape: a size, or a symbolic name
// (Param, e.g. "batch") shared by the dimensions that must be equal. A
// dimension that is neither has Value −1.
type Dim struct {
	Value int64
	Param string
}

// unknownDimension is the Value of a Dim with neither a size nor a name.
const unknownDimension = -1

// String is the dimension as onnx's printers show it: its name, its size,
// or "?".
func (d Dim) String() string {
	switch {
	case d.Param != "":
		return d.Param
	case d.Value == unknownDimension:
		return "?"
	}
	return fmt.Sprint(d.Value)
}

// numel is the element count the dims describe.
func (t *Tensor) numel() (int64, error) {
	n := int64(1)
	for _, d := range t.Dims {
		if d < 0 {
			return 0, fmt.Errorf("tensor %q: negative dimension in %v", t.Name, t.Dims)
		}
		if d != 0 && n > math.MaxInt64/d {
			return 0, fmt.Errorf("tensor %q: dims %v overflow", t.Name, t.Dims)
		}
		n *= d
	}
	return n, nil
}

// Initializer returns the graph's initializer called name.
func (g *Graph) Initializer(name string) (*Tensor, bool) {
	for i := range g.Initializers {
		if g.Initializers[i].Name == name {
			return &g.Initializers[i], true
		}
	}
	return nil, false
}

// Attribute returns the node's attribute called name.
func (n *Node) Attribute(name string) (*Attribute, bool) {
	for i := range n.Attributes {
		if n.Attributes[i].Name == name {
			return &n.Attributes[i], true
		}
	}
	return nil, false
}

// floatTensor returns a float32 tensor with its data in raw_data.
func floatTensor(name string, dims []int64, v []float32) Tensor {
	raw := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(raw[4*i:], math.Float32bits(x))
	}
	return Tensor{Name: name, DataType: Float, Dims: dims, RawData: raw}
}

// int64Tensor returns an int64 tensor with its data in raw_data.
func int64Tensor(name string, dims []int64, v []int64) Tensor {
	raw := make([]byte, 8*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint64(raw[8*i:], uint64(x))
	}
	return Tensor{Name: name, DataType: Int64, Dims: dims, RawData: raw}
}

// int32Tensor returns an int32 tensor with its data in raw_data.
func int32Tensor(name string, dims []int64, v []int32) Tensor {
	raw := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(raw[4*i:], uint32(x))
	}
	return Tensor{Name: name, DataType: Int32, Dims: dims, RawData: raw}
}

// Attribute constructors, one per type the builders use.

func attrInt(name string, v int64) Attribute { return Attribute{Name: name, Type: AttrInt, I: v} }

func attrInts(name string, v ...int64) Attribute {
	return Attribute{Name: name, Type: AttrInts, Ints: v}
}

func attrFloat(name string, v float32) Attribute {
	return Attribute{Name: name, Type: AttrFloat, F: v}
}

func attrString(name, v string) Attribute {
	return Attribute{Name: name, Type: AttrString, S: []byte(v)}
}
