#!/usr/bin/env python3
"""Write the PyTorch parity golden of tapeml's textcnn model (PyTorch 1.13).

    /usr/bin/python3 tools/pytorch/textcnn_golden.py [models/textcnn/testdata/parity.json]

A small TextCNN (models.TextCNN, the module whose state_dict matches tapeml's
parameter store) is initialized with PyTorch's defaults from a fixed seed,
directly in float64, and run forward and backward on one batch of
Keras-style pre-padded token ids (id 0 is padding; one text is all padding,
one has no padding) with 0/1 labels and the mean BCEWithLogitsLoss.

Recorded in the JSON file, every tensor as {"name", "shape", "data"} with
data flattened row-major, lists in state_dict order:

  config   the tapeml Config (JSON field names of textcnn.Config)
  ids      [N, maxlen] token ids; labels [N]
  params   the float64 weights
  float64  logits [N, 1], loss, and the gradient of every parameter, computed
           in float64
  float32  the same computed in float32, with the weights rounded to float32
           (round to nearest, as Go's float32(x) does)

Floats are written with Python's repr, which round-trips exactly through
Go's encoding/json, so the float64 golden is exact to the last bit.
"""
import json
import os
import sys

import torch
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from models import TextCNN  # noqa: E402

SEED = 20240607
CONFIG = {"num_words": 50, "embed_dim": 8, "filters": 6, "kernel": 3, "pool": 2, "maxlen": 13}
# Conv output length 11 pooled by 2 gives 5 steps and drops the last one, so
# the golden also checks floor-mode pooling. Text lengths before padding:
LENGTHS = [13, 10, 6, 2, 0]
LABELS = [1.0, 0.0, 1.0, 0.0, 1.0]

DEFAULT_OUT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                           "..", "..", "models", "textcnn", "testdata", "parity.json"))


def make_ids(gen):
    """Pre-padded ids (Keras pad_sequences' default), non-zero ids in [1, num_words)."""
    rows = []
    for n in LENGTHS:
        words = torch.randint(1, CONFIG["num_words"], (n,), generator=gen).tolist()
        rows.append([0] * (CONFIG["maxlen"] - n) + words)
    return torch.tensor(rows, dtype=torch.int64)


def tensor_entry(name, t):
    return {"name": name, "shape": list(t.shape), "data": t.detach().reshape(-1).tolist()}


def dumps(v, indent=""):
    """JSON with one line per tensor or list, so that diffs of the golden stay readable."""
    inner = indent + " "
    if isinstance(v, dict) and not ("data" in v and "shape" in v):
        items = [f"{inner}{json.dumps(k)}: {dumps(x, inner)}" for k, x in v.items()]
        return "{\n" + ",\n".join(items) + "\n" + indent + "}" + ("\n" if not indent else "")
    if isinstance(v, list) and v and isinstance(v[0], (dict, list)):
        return "[\n" + ",\n".join(inner + dumps(x, inner) for x in v) + "\n" + indent + "]"
    return json.dumps(v)


def run(model, ids, labels):
    """Forward and backward on one batch: logits, loss and the gradients."""
    model.zero_grad()
    logits = model(ids)
    loss = nn.BCEWithLogitsLoss()(logits.reshape(-1), labels)
    loss.backward()
    return {
        "logits": tensor_entry("logits", logits),
        "loss": loss.item(),
        "grads": [tensor_entry(name, p.grad) for name, p in model.named_parameters()],
    }


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else DEFAULT_OUT
    torch.manual_seed(SEED)
    torch.set_default_dtype(torch.float64)  # initialize in float64: weights use every bit
    model = TextCNN(**CONFIG)
    torch.set_default_dtype(torch.float32)
    gen = torch.Generator().manual_seed(SEED)
    ids = make_ids(gen)
    labels = torch.tensor(LABELS, dtype=torch.float64)

    golden = {
        "generator": "tools/pytorch/textcnn_golden.py, torch " + torch.__version__,
        "config": CONFIG,
        "ids": ids.tolist(),
        "labels": LABELS,
        "params": [tensor_entry(name, t) for name, t in model.state_dict().items()],
        "float64": run(model, ids, labels),
    }
    golden["float32"] = run(model.float(), ids, labels.float())

    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    with open(out, "w") as f:
        f.write(dumps(golden))
    print(f"wrote {out}: loss float64 {golden['float64']['loss']!r}, float32 {golden['float32']['loss']!r}")


if __name__ == "__main__":
    main()
