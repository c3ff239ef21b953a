package onnx

import (
	"encoding/binary"
	"math"
)

// Protocol-buffer wire types (the low 3 bits of a field's tag).
const (
	wireVarint  = 0 // int32, int64, enums, bool
	wireFixed64 = 1 // double, fixed64
	wireBytes   = 2 // strings, bytes, sub-messages, packed repeated scalars
	wireFixed32 = 5 // float, fixed32
)

// encoder appends protobuf fields to a byte slice. Fields are written in the
// order the caller gives them; the message types write them in field-number
// order, as the reference implementation does, so equal messages give equal
// bytes.
type encoder struct{ b []byte }

func (e *encoder) tag(field, wire int) { e.uvarint(uint64(field)<<3 | uint64(wire)) }

func (e *encoder) uvarint(v uint64) { e.b = binary.AppendUvarint(e.b, v) }

// int64 writes a varint field. Negative values take ten bytes, as protobuf's
// int32 and int64 do (no zigzag).
func (e *encoder) int64(field int, v int64) {
	e.tag(field, wireVarint)
	e.uvarint(uint64(v))
}

func (e *encoder) float32(field int, v float32) {
	e.tag(field, wireFixed32)
	e.b = binary.LittleEndian.AppendUint32(e.b, math.Float32bits(v))
}

func (e *encoder) bytes(field int, v []byte) {
	e.tag(field, wireBytes)
	e.uvarint(uint64(len(v)))
	e.b = append(e.b, v...)
}

func (e *encoder) string(field int, v string) {
	e.tag(field, wireBytes)
	e.uvarint(uint64(len(v)))
	e.b = append(e.b, v...)
}

// optString writes a string field unless it is empty: proto2 optional
// fields that were never set are absent from the reference encoding.
func (e *encoder) optString(field int, v string) {
	if v != "" {
		e.string(field, v)
	}
}

// optInt64 writes a varint field unless it is zero.
func (e *encoder) optInt64(field int, v int64) {
	if v != 0 {
		e.int64(field, v)
	}
}

// message writes a length-delimited sub-message built by fill. fill
// writes in place after room for the longest length prefix, and the body
// then moves back over the unused room: no buffer per message, which
// matters for initializers of tens of megabytes.
func (e *encoder) message(field int, fill func(*encoder)) {
	e.tag(field, wireBytes)
	start := len(e.b)
	e.b = append(e.b, make([]byte, binary.MaxVarintLen64)...)
	body := len(e.b)
	fill(e)
	n := len(e.b) - body
	k := binary.PutUvarint(e.b[start:], uint64(n)) // never reaches the body: k ≤ MaxVarintLen64
	copy(e.b[start+k:], e.b[body:])
	e.b = e.b[:start+k+n]
}

// packedInt64s writes a [packed = true] repeated int64 field.
func (e *encoder) packedInt64s(field int, v []int64) {
	if len(v) == 0 {
		return
	}
	var sub encoder
	for _, x := range v {
		sub.uvarint(uint64(x))
	}
	e.bytes(field, sub.b)
}

// packedInt32s writes a [packed = true] repeated int32 field.
func (e *encoder) packedInt32s(field int, v []int32) {
	if len(v) == 0 {
		return
	}
	var sub encoder
	for _, x := range v {
		sub.uvarint(uint64(int64(x))) // negative int32s are sign-extended to ten bytes
	}
	e.bytes(field, sub.b)
}

// packedFloat32s writes a [packed = true] repeated float field.
func (e *encoder) packedFloat32s(field int, v []float32) {
	if len(v) == 0 {
		return
	}
	buf := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(buf[4*i:], math.Float32bits(x))
	}
	e.bytes(field, buf)
}
