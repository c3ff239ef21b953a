#!/usr/bin/env python3
"""Write the PyTorch parity golden of tapeml's convnet model (PyTorch 1.13).

    /usr/bin/python3 tools/pytorch/convnet_golden.py [models/convnet/testdata/parity.json]

For each of three cases — CIFAR-like 4×3×32×32 (the reference, fc.0 8192
wide), Fashion-MNIST-like 3×1×28×28 (fc.0 6272 wide) and a small 2×2×10×9
(odd sizes: floor-mode pooling drops a row or column at both poolings) —
models.ConvNet is given fixed weights and run for one training step and
one inference pass, in float64 and in float32:

  1. model.train(); forward; CrossEntropyLoss (mean) against class labels;
     backward. Recorded: the logits, the loss, every parameter's gradient,
     and the BatchNorm buffers after the step (running_mean, running_var,
     num_batches_tracked).
  2. model.eval(); forward on the same images. Recorded: the logits, which
     use the running statistics step 1 left behind.

Dropout is set to p = 0 in both frameworks (tapeml's Dropout(0) is the
identity in training too), so the training pass is deterministic and
comparable; the dropout op has its own tests in graph/.

The weights are not stored, because fc.0 alone has 8.4M values. Both sides
compute them from a counter-based generator, exactly, in integer
arithmetic:

  u(stream, i) = (splitmix64(stream·2^32 + i) >> 11) · 2^-53     in [0, 1)
  value[i]     = offset + scale·(2·u(stream, i) − 1)              in float64

with (stream, scale, offset) per tensor in "params" (state_dict order):
conv and linear weights and biases U(±1/√fan_in), PyTorch's default
bound; BatchNorm γ in 1±0.5 and β in ±0.5 (not 1 and 0, so that their
gradients are tested); running statistics at PyTorch's initial 0 and 1
(scale 0). The images use the same generator ("input"). The float32 run
rounds every float64 value to float32 (round to nearest, as Go's
float32(x)).

Gradients of large tensors are recorded as: max_abs, l1 = Σ|g|, l2 = √Σg²,
sum, dot = Σ g[i]·(2·u(stream 9000+k, i) − 1) (k = the tensor's position in
state_dict order: a random projection, sensitive to any single wrong
element), and the values at 256 random positions plus the position of the
largest |g| ("at", "values"). Tensors of at most 4096 values are recorded
whole ("data").

The conv biases' gradients are analytically zero (training-mode batch
normalization subtracts any per-channel constant); both frameworks give
rounding noise there, so those entries are marked "zero": true, hold only
max_abs, and are compared against a bound relative to the layer's weight
gradient instead.

Floats are written with Python's repr, which round-trips exactly through
Go's encoding/json.
"""
import json
import os
import random
import sys

import numpy as np
import torch
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from models import ConvNet  # noqa: E402

CASES = [
    {"name": "cifar", "batch": 4, "config": {"channels": 3, "height": 32, "width": 32, "classes": 10, "dropout": 0.0}},
    {"name": "fashion", "batch": 3, "config": {"channels": 1, "height": 28, "width": 28, "classes": 10, "dropout": 0.0}},
    {"name": "odd", "batch": 2, "config": {"channels": 2, "height": 10, "width": 9, "classes": 3, "dropout": 0.0}},
]
INPUT_STREAM = 1000
INPUT_SCALE = 2.0
DOT_STREAM = 9000
WHOLE = 4096   # tensors up to this size are recorded whole
SAMPLES = 256  # positions recorded of larger tensors

DEFAULT_OUT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                           "..", "..", "models", "convnet", "testdata", "parity.json"))

M64 = np.uint64(0xFFFFFFFFFFFFFFFF)


def uniform01(stream, n):
    """u(stream, i) for i in [0, n), as float64, via splitmix64."""
    with np.errstate(over="ignore"):
        z = np.uint64(stream) * np.uint64(1 << 32) + np.arange(n, dtype=np.uint64)
        z = z + np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
    return (z >> np.uint64(11)).astype(np.float64) * (2.0 ** -53)


def fill(stream, n, scale, offset):
    return offset + scale * (2.0 * uniform01(stream, n) - 1.0)


def param_specs(model):
    """(name, shape, stream, scale, offset) per state_dict entry."""
    specs = []
    sd = model.state_dict()
    for k, (name, t) in enumerate(sd.items()):
        stream, scale, offset = k + 1, 0.0, 0.0
        layer, field = name.rsplit(".", 1)
        module = model.get_submodule(layer)
        if isinstance(module, (nn.Conv2d, nn.Linear)):
            fan_in = module.weight[0].numel()
            scale = 1.0 / np.sqrt(float(fan_in))
        elif isinstance(module, nn.BatchNorm2d):
            if field == "weight":
                scale, offset = 0.5, 1.0
            elif field == "bias":
                scale = 0.5
            elif field == "running_var":
                offset = 1.0
        specs.append({"name": name, "shape": list(t.shape), "stream": stream, "scale": scale, "offset": offset})
    return specs


def load(model, specs, dtype):
    with torch.no_grad():
        for name, t in model.state_dict().items():
            s = next(s for s in specs if s["name"] == name)
            v = fill(s["stream"], t.numel(), s["scale"], s["offset"]).reshape(t.shape)
            if t.dtype == torch.int64:
                t.zero_()
            else:
                t.copy_(torch.from_numpy(v).to(dtype))


def whole(name, t):
    return {"name": name, "shape": list(t.shape), "data": t.detach().reshape(-1).double().tolist()}


def summary(name, k, g, zero):
    flat = g.detach().reshape(-1).double().numpy()
    entry = {"name": name, "shape": list(g.shape)}
    if zero:  # rounding noise: only its size is of interest
        entry.update({"zero": True, "max_abs": float(np.max(np.abs(flat)))})
        return entry
    if flat.size <= WHOLE:
        entry["data"] = flat.tolist()
        return entry
    r = 2.0 * uniform01(DOT_STREAM + k, flat.size) - 1.0
    at = sorted(set(random.Random(DOT_STREAM + k).sample(range(flat.size), SAMPLES)) | {int(np.argmax(np.abs(flat)))})
    entry.update({
        "max_abs": float(np.max(np.abs(flat))),
        "l1": float(np.sum(np.abs(flat))),
        "l2": float(np.sqrt(np.sum(flat * flat))),
        "sum": float(np.sum(flat)),
        "dot": float(np.dot(flat, r)),
        "at": at,
        "values": [float(flat[i]) for i in at],
    })
    return entry


def run(case, specs, x64, labels, dtype):
    model = ConvNet(**case["config"]).to(dtype)
    load(model, specs, dtype)
    x = x64.to(dtype)
    model.train()
    model.zero_grad()
    logits = model(x)
    loss = nn.CrossEntropyLoss()(logits, labels)
    loss.backward()
    names = list(model.state_dict().keys())
    grads = []
    for name, p in model.named_parameters():
        zero = name.endswith(".bias") and name.rsplit(".", 1)[0] in ("layer1.0", "layer2.0")
        grads.append(summary(name, names.index(name), p.grad, zero))
    buffers = [whole(name, b) for name, b in model.named_buffers()]
    model.eval()
    with torch.no_grad():
        eval_logits = model(x)
    return {
        "train_logits": whole("train_logits", logits),
        "loss": loss.item(),
        "grads": grads,
        "buffers": buffers,
        "eval_logits": whole("eval_logits", eval_logits),
    }


def dumps(v, indent=""):
    """JSON with one line per tensor or list, so that diffs of the golden stay readable."""
    inner = indent + " "
    if isinstance(v, dict) and not ("shape" in v and "name" in v):
        items = [f"{inner}{json.dumps(k)}: {dumps(x, inner)}" for k, x in v.items()]
        return "{\n" + ",\n".join(items) + "\n" + indent + "}" + ("\n" if not indent else "")
    if isinstance(v, list) and v and isinstance(v[0], (dict, list)):
        return "[\n" + ",\n".join(inner + dumps(x, inner) for x in v) + "\n" + indent + "]"
    return json.dumps(v)


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else DEFAULT_OUT
    torch.set_num_threads(2)
    golden = {"generator": "tools/pytorch/convnet_golden.py, torch " + torch.__version__, "cases": []}
    for case in CASES:
        cfg = case["config"]
        specs = param_specs(ConvNet(**cfg))
        n = case["batch"]
        shape = (n, cfg["channels"], cfg["height"], cfg["width"])
        x64 = torch.from_numpy(fill(INPUT_STREAM, int(np.prod(shape)), INPUT_SCALE, 0.0).reshape(shape))
        labels = [int(v) for v in (uniform01(INPUT_STREAM + 1, n) * cfg["classes"]).astype(np.int64)]
        lab = torch.tensor(labels, dtype=torch.int64)
        entry = {
            "name": case["name"], "config": cfg, "batch": n,
            "input": {"stream": INPUT_STREAM, "scale": INPUT_SCALE, "offset": 0.0},
            "labels": labels,
            "params": specs,
            "float64": run(case, specs, x64, lab, torch.float64),
            "float32": run(case, specs, x64, lab, torch.float32),
        }
        golden["cases"].append(entry)
        print(f"{case['name']}: loss float64 {entry['float64']['loss']!r}, float32 {entry['float32']['loss']!r}")
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    with open(out, "w") as f:
        f.write(dumps(golden))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
