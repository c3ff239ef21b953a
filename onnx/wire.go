package onnx

import (
	"encoding/binary"
	"errors"
	"fmt"
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

// errTruncated reports a message that ends inside a field.
var errTruncated = errors.New("truncated message")

// decoder reads the fields of one protobuf message.
type decoder struct {
	b   []byte
	off int
}

// field is one decoded field: its number, wire type and payload (the value
// of a varint or fixed field, the bytes of a length-delimited one).
type field struct {
	num  int
	wire int
	u    uint64 // varint, fixed32 and fixed64 payloads
	data []byte // wireBytes payload, aliasing the input
}

func (d *decoder) done() bool { return d.off >= len(d.b) }

func (d *decoder) uvarint() (uint64, error) {
	v, n := binary.Uvarint(d.b[d.off:])
	switch {
	case n == 0:
		return 0, errTruncated
	case n < 0:
		return 0, fmt.Errorf("varint at byte %d overflows 64 bits", d.off)
	}
	d.off += n
	return v, nil
}

// next reads the next field. Groups (wire types 3 and 4, unused by ONNX)
// are errors.
func (d *decoder) next() (field, error) {
	at := d.off
	key, err := d.uvarint()
	if err != nil {
		return field{}, err
	}
	f := field{num: int(key >> 3), wire: int(key & 7)}
	if key>>3 == 0 || key>>3 > math.MaxInt32 {
		return field{}, fmt.Errorf("invalid field number %d at byte %d", key>>3, at)
	}
	switch f.wire {
	case wireVarint:
		f.u, err = d.uvarint()
	case wireFixed64:
		if len(d.b)-d.off < 8 {
			return field{}, errTruncated
		}
		f.u = binary.LittleEndian.Uint64(d.b[d.off:])
		d.off += 8
	case wireFixed32:
		if len(d.b)-d.off < 4 {
			return field{}, errTruncated
		}
		f.u = uint64(binary.LittleEndian.Uint32(d.b[d.off:]))
		d.off += 4
	case wireBytes:
		var n uint64
		if n, err = d.uvarint(); err != nil {
			return field{}, err
		}
		if n > uint64(len(d.b)-d.off) {
			return field{}, fmt.Errorf("field %d at byte %d: length %d runs past the end of the message (%d bytes left): %w",
				f.num, at, n, len(d.b)-d.off, errTruncated)
		}
		f.data = d.b[d.off : d.off+int(n)]
		d.off += int(n)
	default:
		return field{}, fmt.Errorf("field %d at byte %d: unsupported wire type %d", f.num, at, f.wire)
	}
	return f, err
}

// want checks a singular field's wire type.
func (f field) want(wire int) error {
	if f.wire != wire {
		return fmt.Errorf("field %d has wire type %d, expected %d", f.num, f.wire, wire)
	}
	return nil
}

func (f field) int64() (int64, error) {
	if err := f.want(wireVarint); err != nil {
		return 0, err
	}
	return int64(f.u), nil
}

// int32 reads an int32 or enum varint; values outside int32 are errors
// rather than silently truncated.
func (f field) int32() (int32, error) {
	v, err := f.int64()
	if err != nil {
		return 0, err
	}
	if v < math.MinInt32 || v > math.MaxInt32 {
		return 0, fmt.Errorf("field %d: %d does not fit int32", f.num, v)
	}
	return int32(v), nil
}

func (f field) float32() (float32, error) {
	if err := f.want(wireFixed32); err != nil {
		return 0, err
	}
	return math.Float32frombits(uint32(f.u)), nil
}

func (f field) bytes() ([]byte, error) {
	if err := f.want(wireBytes); err != nil {
		return nil, err
	}
	return f.data, nil
}

func (f field) string() (string, error) {
	b, err := f.bytes()
	return string(b), err
}

// appendInt64s appends a repeated int64 field's values: one value when it
// is sent unpacked, all of them when packed (parsers must accept both).
func (f field) appendInt64s(dst []int64) ([]int64, error) {
	switch f.wire {
	case wireVarint:
		return append(dst, int64(f.u)), nil
	case wireBytes:
		d := decoder{b: f.data}
		for !d.done() {
			v, err := d.uvarint()
			if err != nil {
				return nil, fmt.Errorf("field %d: packed varints: %w", f.num, err)
			}
			dst = append(dst, int64(v))
		}
		return dst, nil
	}
	return nil, fmt.Errorf("field %d has wire type %d, expected a varint or packed varints", f.num, f.wire)
}

// appendInt32s is appendInt64s for int32 fields.
func (f field) appendInt32s(dst []int32) ([]int32, error) {
	v, err := f.appendInt64s(nil)
	if err != nil {
		return nil, err
	}
	for _, x := range v {
		if x < math.MinInt32 || x > math.MaxInt32 {
			return nil, fmt.Errorf("field %d: %d does not fit int32", f.num, x)
		}
		dst = append(dst, int32(x))
	}
	return dst, nil
}

// appendFloat32s appends a repeated float field's values, unpacked or
// packed.
func (f field) appendFloat32s(dst []float32) ([]float32, error) {
	switch f.wire {
	case wireFixed32:
		return append(dst, math.Float32frombits(uint32(f.u))), nil
	case wireBytes:
		if len(f.data)%4 != 0 {
			return nil, fmt.Errorf("field %d: packed floats take %d bytes, not a multiple of 4", f.num, len(f.data))
		}
		for i := 0; i < len(f.data); i += 4 {
			dst = append(dst, math.Float32frombits(binary.LittleEndian.Uint32(f.data[i:])))
		}
		return dst, nil
	}
	return nil, fmt.Errorf("field %d has wire type %d, expected a float or packed floats", f.num, f.wire)
}
