package onnx

import (
	"fmt"
	"slices"
)

// Unmarshal decodes a .onnx file's bytes. Fields outside the subset Model
// describes are skipped; malformed protobuf, a known field with the wrong
// wire type, and duplicate metadata keys are errors naming the message.
// The model's byte slices (raw_data, string attributes) are copies, so b may
// be reused.
func Unmarshal(b []byte) (*Model, error) {
	m := &Model{}
	if err := m.decode(slices.Clone(b)); err != nil {
		return nil, fmt.Errorf("onnx: unmarshal: %w", err)
	}
	return m, nil
}

// fields calls f on each field of the message in b; errors are prefixed
// with the message's name.
func fields(b []byte, what string, f func(field) error) error {
	d := decoder{b: b}
	for !d.done() {
		fd, err := d.next()
		if err == nil {
			err = f(fd)
		}
		if err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
	}
	return nil
}

func (m *Model) decode(b []byte) error {
	return fields(b, "ModelProto", func(f field) (err error) {
		switch f.num {
		case modelIRVersion:
			m.IRVersion, err = f.int64()
		case modelProducerName:
			m.ProducerName, err = f.string()
		case modelProducerVersion:
			m.ProducerVersion, err = f.string()
		case modelDomain:
			m.Domain, err = f.string()
		case modelModelVersion:
			m.ModelVersion, err = f.int64()
		case modelDocString:
			m.DocString, err = f.string()
		case modelGraph:
			var data []byte
			if data, err = f.bytes(); err == nil {
				m.Graph = Graph{} // a repeated singular message: the last one wins
				err = m.Graph.decode(data)
			}
		case modelOpsetImport:
			var o OpsetID
			if err = decodeOpset(f, &o); err == nil {
				m.OpsetImports = append(m.OpsetImports, o)
			}
		case modelMetadataProps:
			var k, v string
			if k, v, err = decodeEntry(f); err != nil {
				break
			}
			if _, dup := m.Metadata[k]; dup {
				return fmt.Errorf("metadata_props: key %q appears twice", k)
			}
			if m.Metadata == nil {
				m.Metadata = map[string]string{}
			}
			m.Metadata[k] = v
		}
		return err
	})
}

func decodeOpset(f field, o *OpsetID) error {
	data, err := f.bytes()
	if err != nil {
		return err
	}
	return fields(data, "OperatorSetIdProto", func(f field) (err error) {
		switch f.num {
		case opsetDomain:
			o.Domain, err = f.string()
		case opsetVersion:
			o.Version, err = f.int64()
		}
		return err
	})
}

func decodeEntry(f field) (k, v string, err error) {
	data, err := f.bytes()
	if err != nil {
		return "", "", err
	}
	err = fields(data, "StringStringEntryProto", func(f field) (err error) {
		switch f.num {
		case entryKey:
			k, err = f.string()
		case entryValue:
			v, err = f.string()
		}
		return err
	})
	return k, v, err
}

func (g *Graph) decode(b []byte) error {
	return fields(b, "GraphProto", func(f field) (err error) {
		switch f.num {
		case graphNode:
			var n Node
			if err = decodeSub(f, fmt.Sprintf("node[%d]", len(g.Nodes)), n.decode); err == nil {
				g.Nodes = append(g.Nodes, n)
			}
		case graphName:
			g.Name, err = f.string()
		case graphInitializer:
			var t Tensor
			if err = decodeSub(f, fmt.Sprintf("initializer[%d]", len(g.Initializers)), t.decode); err == nil {
				g.Initializers = append(g.Initializers, t)
			}
		case graphDocString:
			g.DocString, err = f.string()
		case graphInput, graphOutput, graphValueInfo:
			var v ValueInfo
			if err = decodeSub(f, "value info", v.decode); err != nil {
				break
			}
			switch f.num {
			case graphInput:
				g.Inputs = append(g.Inputs, v)
			case graphOutput:
				g.Outputs = append(g.Outputs, v)
			default:
				g.ValueInfo = append(g.ValueInfo, v)
			}
		}
		return err
	})
}

// decodeSub decodes a sub-message field with decode, naming it in errors.
func decodeSub(f field, what string, decode func([]byte) error) error {
	data, err := f.bytes()
	if err == nil {
		err = decode(data)
	}
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}

func (n *Node) decode(b []byte) error {
	return fields(b, "NodeProto", func(f field) (err error) {
		var s string
		switch f.num {
		case nodeInput:
			if s, err = f.string(); err == nil {
				n.Inputs = append(n.Inputs, s)
			}
		case nodeOutput:
			if s, err = f.string(); err == nil {
				n.Outputs = append(n.Outputs, s)
			}
		case nodeName:
			n.Name, err = f.string()
		case nodeOpType:
			n.OpType, err = f.string()
		case nodeAttribute:
			var a Attribute
			if err = decodeSub(f, fmt.Sprintf("attribute[%d]", len(n.Attributes)), a.decode); err == nil {
				n.Attributes = append(n.Attributes, a)
			}
		case nodeDocString:
			n.DocString, err = f.string()
		case nodeDomain:
			n.Domain, err = f.string()
		}
		return err
	})
}

func (a *Attribute) decode(b []byte) error {
	return fields(b, "AttributeProto", func(f field) (err error) {
		switch f.num {
		case attrName:
			a.Name, err = f.string()
		case attrF:
			a.F, err = f.float32()
		case attrI:
			a.I, err = f.int64()
		case attrS:
			a.S, err = f.bytes()
		case attrT:
			a.T = &Tensor{}
			err = decodeSub(f, "t", a.T.decode)
		case attrFloatList:
			a.Floats, err = f.appendFloat32s(a.Floats)
		case attrIntList:
			a.Ints, err = f.appendInt64s(a.Ints)
		case attrStrList:
			var s []byte
			if s, err = f.bytes(); err == nil {
				a.Strings = append(a.Strings, s)
			}
		case attrDocString:
			a.DocString, err = f.string()
		case attrType:
			var t int32
			t, err = f.int32()
			a.Type = AttributeType(t)
		}
		return err
	})
}

func (t *Tensor) decode(b []byte) error {
	return fields(b, "TensorProto", func(f field) (err error) {
		switch f.num {
		case tensorDims:
			t.Dims, err = f.appendInt64s(t.Dims)
		case tensorDataType:
			var v int32
			v, err = f.int32()
			t.DataType = DataType(v)
		case tensorFloatData:
			t.FloatData, err = f.appendFloat32s(t.FloatData)
		case tensorInt32Data:
			t.Int32Data, err = f.appendInt32s(t.Int32Data)
		case tensorInt64Data:
			t.Int64Data, err = f.appendInt64s(t.Int64Data)
		case tensorName:
			t.Name, err = f.string()
		case tensorRawData:
			var raw []byte
			if raw, err = f.bytes(); err == nil {
				t.RawData = append([]byte{}, raw...) // non-nil even when empty: the field is present
			}
		case tensorDocString:
			t.DocString, err = f.string()
		}
		return err
	})
}

func (v *ValueInfo) decode(b []byte) error {
	return fields(b, "ValueInfoProto", func(f field) (err error) {
		switch f.num {
		case valueName:
			v.Name, err = f.string()
		case valueType:
			err = decodeSub(f, "type", v.decodeType)
		case valueDocString:
			v.DocString, err = f.string()
		}
		return err
	})
}

// decodeType reads a TypeProto; only tensor types are kept.
func (v *ValueInfo) decodeType(b []byte) error {
	return fields(b, "TypeProto", func(f field) error {
		if f.num != typeTensor {
			return nil
		}
		return decodeSub(f, "tensor_type", func(b []byte) error {
			return fields(b, "TypeProto.Tensor", func(f field) (err error) {
				switch f.num {
				case tensorTypeElem:
					var t int32
					t, err = f.int32()
					v.ElemType = DataType(t)
				case tensorTypeShape:
					v.Shape = []Dim{}
					err = decodeSub(f, "shape", v.decodeShape)
				}
				return err
			})
		})
	})
}

func (v *ValueInfo) decodeShape(b []byte) error {
	return fields(b, "TensorShapeProto", func(f field) error {
		if f.num != shapeDim {
			return nil
		}
		d := Dim{Value: unknownDimension}
		err := decodeSub(f, fmt.Sprintf("dim[%d]", len(v.Shape)), func(b []byte) error {
			return fields(b, "Dimension", func(f field) (err error) {
				switch f.num {
				case dimValue:
					d.Value, err = f.int64()
					d.Param = ""
				case dimParam:
					d.Param, err = f.string()
					d.Value = 0
				}
				return err
			})
		})
		v.Shape = append(v.Shape, d)
		return err
	})
}
