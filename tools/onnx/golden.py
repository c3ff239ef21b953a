"""Writes onnx/testdata/python.onnx, the wire-format golden of package onnx.

The model is built with the reference implementation (onnx.helper and the
protobuf library behind it, Debian's python3-onnx) and exercises every
field of the subset tapeml's Go encoder writes and its tests' decoder reads:
raw_data, float_data, int32_data and int64_data tensors (negative values
included), a scalar, attributes of each type (an INT of 0, which the
reference still writes), omitted optional inputs and outputs (""), symbolic,
fixed and unknown dimensions, an unknown rank, doc strings, opset imports
and metadata. onnx/proto_test.go checks that Marshal writes these exact
bytes for the same model written as a Go literal, and onnx/roundtrip_test.go
that internal/onnxtest decodes the file into that literal.

Run from the repository root:  /usr/bin/python3 tools/onnx/golden.py
"""
import pathlib

import numpy as np
import onnx
from onnx import TensorProto, helper

OUT = pathlib.Path(__file__).resolve().parents[2] / "onnx" / "testdata" / "python.onnx"


def main():
    w = helper.make_tensor("w", TensorProto.FLOAT, [2, 3],
                           np.arange(6, dtype="<f4").tobytes(), raw=True)
    fd = helper.make_tensor("fd", TensorProto.FLOAT, [2], [1.5, -2.25])
    i64 = helper.make_tensor("k", TensorProto.INT64, [3], [1, -2, 300])
    i32 = helper.make_tensor("i32", TensorProto.INT32, [2], [-7, 9])
    scalar = helper.make_tensor("s", TensorProto.INT64, [], np.array([5], "<i8").tobytes(), raw=True)
    attr_t = helper.make_tensor("t", TensorProto.FLOAT, [1], [0.25])

    gemm = helper.make_node("Gemm", ["x", "w", ""], ["y"], name="gemm", transB=1, alpha=0.5)
    custom = helper.make_node(
        "Custom", ["y", "k"], ["z", ""], name="custom", domain="ai.tapeml", doc_string="a custom op",
        ints=[1, -1, 0], floats=[0.5, -1.0], strings=["a", "bc"], mode="max", zero=0, t=attr_t)
    graph = helper.make_graph(
        [gemm, custom], "golden",
        inputs=[helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 3]),
                helper.make_tensor_value_info("n", TensorProto.INT64, None)],
        outputs=[helper.make_tensor_value_info("z", TensorProto.FLOAT, ["batch", None, 7]),
                 helper.make_tensor_value_info("c", TensorProto.INT32, [])],
        initializer=[w, fd, i64, i32, scalar],
        doc_string="wire-format golden",
        value_info=[helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 2])])
    model = helper.make_model(
        graph, ir_version=7, producer_name="tapeml", producer_version="0.1", domain="ai.tapeml",
        model_version=3, doc_string="golden model",
        opset_imports=[helper.make_opsetid("", 13), helper.make_opsetid("ai.tapeml", 1)])
    helper.set_model_props(model, {"a": "1", "tapeml.kind": "golden"})
    data = model.SerializeToString()
    assert onnx.load_from_string(data).SerializeToString() == data
    OUT.write_bytes(data)
    print(f"wrote {OUT} ({len(data)} bytes)")


if __name__ == "__main__":
    main()
