#!/usr/bin/python3
"""Golden files for package safetensors, made and checked with PyTorch.

Debian packages PyTorch (python3-torch) but not the safetensors package, so
this script serializes with the rules of the reference implementation
(huggingface/safetensors, safetensors/src/tensor.rs, `prepare` and
`read_metadata`):
  * tensors sorted by decreasing dtype (enum order), then by name;
  * header {"__metadata__": {...}, name: {"dtype", "shape", "data_offsets"}}
    as compact serde_json, padded with spaces to a multiple of 8;
  * on reading, offsets sorted must tile the buffer exactly and each span must
    equal numel * dtype size.

Usage (from the repository root):
  /usr/bin/python3 safetensors/testdata/torch_golden.py gen
      writes torch_state_dict.safetensors and torch_state_dict.json
  /usr/bin/python3 safetensors/testdata/torch_golden.py check FILE...
      validates files written by Go and loads them into the torch module
"""
import json
import os
import struct
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))

# Increasing alignment order, as the reference enum declares it.
DTYPES = ["BOOL", "U8", "I8", "F8_E5M2", "F8_E4M3", "I16", "U16", "F16",
          "BF16", "I32", "U32", "F32", "F64", "I64", "U64"]
SIZES = {"BOOL": 1, "U8": 1, "I8": 1, "F8_E5M2": 1, "F8_E4M3": 1, "I16": 2,
         "U16": 2, "F16": 2, "BF16": 2, "I32": 4, "U32": 4, "F32": 4,
         "F64": 8, "I64": 8, "U64": 8}
TORCH = {torch.bool: "BOOL", torch.uint8: "U8", torch.int8: "I8",
         torch.int16: "I16", torch.float16: "F16", torch.bfloat16: "BF16",
         torch.int32: "I32", torch.float32: "F32", torch.float64: "F64",
         torch.int64: "I64"}
FROM = {v: k for k, v in TORCH.items()}


def model():
    """The module whose state_dict the goldens hold: Linear, BatchNorm1d
    (with running statistics and num_batches_tracked), ReLU, Linear."""
    torch.manual_seed(0)
    m = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4),
                            torch.nn.ReLU(), torch.nn.Linear(4, 2))
    m.train()
    m(torch.randn(5, 3))  # moves running_mean/var and num_batches_tracked
    return m


def raw(t):
    t = t.contiguous().reshape(-1)
    if t.dtype == torch.bfloat16:
        t = t.view(torch.int16)
    if t.dtype == torch.bool:
        t = t.to(torch.uint8)
    return t.numpy().tobytes()


def serialize(tensors, metadata):
    order = sorted(tensors.items(),
                   key=lambda kv: (-DTYPES.index(TORCH[kv[1].dtype]), kv[0]))
    header, chunks, offset = {}, [], 0
    if metadata:
        header["__metadata__"] = metadata
    for name, t in order:
        b = raw(t)
        header[name] = {"dtype": TORCH[t.dtype], "shape": list(t.shape),
                        "data_offsets": [offset, offset + len(b)]}
        offset += len(b)
        chunks.append(b)
    h = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    return struct.pack("<Q", len(h)) + h + b"".join(chunks)


def deserialize(data):
    if len(data) < 8:
        raise ValueError("header too small")
    n = struct.unpack("<Q", data[:8])[0]
    if n > 100_000_000 or 8 + n > len(data):
        raise ValueError("invalid header length")
    header = json.loads(data[8:8 + n].decode("utf-8"))
    metadata = header.pop("__metadata__", None)
    entries = sorted(header.items(), key=lambda kv: tuple(kv[1]["data_offsets"]))
    start, buf, out = 0, data[8 + n:], {}
    for name, info in entries:
        s, e = info["data_offsets"]
        if s != start or e < s:
            raise ValueError("invalid offset for %s" % name)
        start = e
        numel = 1
        for d in info["shape"]:
            numel *= d
        if e - s != numel * SIZES[info["dtype"]]:
            raise ValueError("tensor invalid info for %s" % name)
        dtype = FROM[info["dtype"]]
        if numel == 0:
            t = torch.empty(info["shape"], dtype=dtype)
        elif dtype == torch.bool:
            t = torch.frombuffer(bytearray(buf[s:e]), dtype=torch.uint8).to(torch.bool)
        else:
            t = torch.frombuffer(bytearray(buf[s:e]), dtype=dtype)
        out[name] = t.reshape(info["shape"])
    if start != len(buf):
        raise ValueError("metadata incomplete buffer")
    return out, metadata


def golden_tensors():
    tensors = dict(model().state_dict())
    # One tensor of each other dtype, to pin the dtype names and sizes.
    tensors["extra.f64"] = torch.tensor([1.5, -2.25], dtype=torch.float64)
    tensors["extra.i32"] = torch.tensor([[1, -2, 3]], dtype=torch.int32)
    tensors["extra.u8"] = torch.tensor([0, 255], dtype=torch.uint8)
    tensors["extra.bool"] = torch.tensor([True, False, True])
    tensors["extra.f16"] = torch.tensor([0.5, -1.0], dtype=torch.float16)
    tensors["extra.bf16"] = torch.tensor([0.5, -1.0], dtype=torch.bfloat16)
    tensors["extra.empty"] = torch.zeros(0, 3)
    return tensors


def gen():
    tensors = golden_tensors()
    metadata = {"format": "pt"}
    data = serialize(tensors, metadata)
    deserialize(data)  # self-check
    with open(os.path.join(HERE, "torch_state_dict.safetensors"), "wb") as f:
        f.write(data)
    doc = {"metadata": metadata, "state_dict_order": list(model().state_dict().keys()),
           "tensors": {}}
    for name, t in tensors.items():
        d = {"dtype": TORCH[t.dtype], "shape": list(t.shape), "hex": raw(t).hex()}
        if t.dtype in (torch.float32, torch.int64):
            d["values"] = t.reshape(-1).tolist()  # exact: float32 fits a double
        doc["tensors"][name] = d
    with open(os.path.join(HERE, "torch_state_dict.json"), "w") as f:
        json.dump(doc, f, indent=1, sort_keys=True)
        f.write("\n")


def check(paths):
    want = golden_tensors()
    for path in paths:
        with open(path, "rb") as f:
            got, metadata = deserialize(f.read())
        for name, t in got.items():
            if name in want and not torch.equal(t, want[name]):
                raise SystemExit("%s: %s differs from torch" % (path, name))
        m = model()
        sd = {k: v for k, v in got.items() if not k.startswith("extra.")}
        m.load_state_dict(sd, strict=True)
        m.eval()
        y = m(torch.ones(2, 3))
        print("%s: %d tensors, metadata %s, loaded into torch (strict); output %s"
              % (path, len(got), metadata, y.detach().numpy().round(4).tolist()))


if __name__ == "__main__":
    if sys.argv[1:2] == ["gen"]:
        gen()
    elif sys.argv[1:2] == ["check"]:
        check(sys.argv[2:])
    else:
        raise SystemExit(__doc__)
