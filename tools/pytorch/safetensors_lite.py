"""A minimal safetensors reader and writer for the scripts in this folder.

Debian 12 packages PyTorch but not the ``safetensors`` module, so these
scripts read and write the format themselves: an 8-byte little-endian
header length, a JSON header (name → dtype, shape, data_offsets, plus
``__metadata__``), then the raw little-endian bytes. ``load_file`` and
``save_file`` behave like ``safetensors.torch``'s, which is what users
of tapeml's exports would call; the scripts use the real module when it is
installed.
"""
import json
import struct

import torch

_DTYPES = {
    "F64": torch.float64, "F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16,
    "I64": torch.int64, "I32": torch.int32, "I16": torch.int16, "I8": torch.int8, "U8": torch.uint8,
    "BOOL": torch.bool,
}
_NAMES = {v: k for k, v in _DTYPES.items()}


def read(path):
    """Returns (tensors as an ordered dict, metadata dict) of a safetensors file."""
    with open(path, "rb") as f:
        blob = f.read()
    (n,) = struct.unpack("<Q", blob[:8])
    header = json.loads(blob[8:8 + n])
    metadata = header.pop("__metadata__", {}) or {}
    data = blob[8 + n:]
    tensors = {}
    for name, e in sorted(header.items(), key=lambda kv: kv[1]["data_offsets"][0]):
        start, end = e["data_offsets"]
        t = torch.frombuffer(bytearray(data[start:end]), dtype=_DTYPES[e["dtype"]]) if end > start \
            else torch.empty(0, dtype=_DTYPES[e["dtype"]])
        tensors[name] = t.reshape(e["shape"]).clone()
    return tensors, metadata


def load_file(path):
    """safetensors.torch.load_file: name → tensor."""
    return read(path)[0]


def save_file(tensors, path, metadata=None):
    """safetensors.torch.save_file: writes tensors (contiguous CPU) and string metadata."""
    header, chunks, offset = {}, [], 0
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    for name, t in tensors.items():
        b = t.detach().contiguous().cpu().numpy().tobytes()
        header[name] = {"dtype": _NAMES[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(b)]}
        chunks.append(b)
        offset += len(b)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)  # align the data to 8 bytes, as safetensors does
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(chunks))


class safe_open:
    """safetensors.safe_open for framework "pt": metadata(), keys(), get_tensor(name)."""

    def __init__(self, path, framework="pt", device="cpu"):
        if framework != "pt":
            raise ValueError("safetensors_lite only reads into PyTorch")
        self._tensors, self._metadata = read(path)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def metadata(self):
        return self._metadata

    def keys(self):
        return list(self._tensors)

    def get_tensor(self, name):
        return self._tensors[name]
