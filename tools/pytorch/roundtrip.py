"""PyTorch and ONNX side of tapeml's export round trips.

For every model folder written by ``go run ./tools/roundtrip -out DIR``
(model.safetensors, model.onnx, io.json):

1. builds the PyTorch module named by the file's ``tapeml.kind`` and
   ``tapeml.model_config`` metadata (models.py), loads the exported
   state_dict with ``load_state_dict(strict=True)`` and compares its
   outputs on io.json's inputs with tapeml's;
2. checks model.onnx with ``onnx.checker.check_model(full_check=True)``;
3. for the way back, perturbs the module's weights and saves them as a
   PyTorch user would (``save_file(model.state_dict())``, no tapeml
   metadata) to torch.safetensors, with the module's outputs in
   torch_io.json; ``go run ./tools/roundtrip -check-import DIR`` imports
   that file into tapeml and compares.

Run with Debian's interpreter, which has PyTorch and python3-onnx:

    /usr/bin/python3 tools/pytorch/roundtrip.py DIR

Exits 1 if any difference exceeds the tolerance (1e-4, relative to the
value's magnitude when it is above 1).
"""
import argparse
import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import models  # noqa: E402

try:
    from safetensors.torch import load_file, save_file  # the real module, when installed
    from safetensors import safe_open

    def read(path):
        with safe_open(path, "pt") as f:
            return load_file(path), f.metadata() or {}
except ImportError:
    from safetensors_lite import read, save_file  # Debian 12 has no python3-safetensors

TOL = 1e-4


def tensor(a):
    dtype = {"int64": torch.int64, "float32": torch.float32}[a["dtype"]]
    return torch.tensor(a["data"], dtype=dtype if dtype != torch.float32 else torch.float64).to(dtype).reshape(a["shape"])


def outputs(kind, module, inputs):
    """The module's outputs under io.json's names."""
    with torch.no_grad():
        if kind == "recsys":
            return {"rating": module(inputs["user"], inputs["item"])}
        if kind == "convnet":
            logits = module(inputs["images"])
            return {"logits": logits, "probs": torch.softmax(logits, 1)}
        logits = module(inputs["ids"])
        return {"logits": logits, "probs": torch.sigmoid(logits)}


def worst(got, want):
    """Largest absolute difference, and largest difference relative to max(1, |want|)."""
    got, want = got.double().flatten(), want.double().flatten()
    d = (got - want).abs()
    return d.max().item(), (d / want.abs().clamp(min=1)).max().item()


def check(folder):
    ok = True
    io = json.load(open(os.path.join(folder, "io.json")))
    tensors, meta = read(os.path.join(folder, "model.safetensors"))
    kind = meta["tapeml.kind"]
    module = models.from_config(kind, json.loads(meta["tapeml.model_config"]))
    module.load_state_dict(tensors, strict=True)
    module.eval()
    inputs = {k: tensor(v) for k, v in io["inputs"].items()}
    got = outputs(kind, module, inputs)
    for name, want in io["outputs"].items():
        absd, reld = worst(got[name], tensor(want))
        status = "ok" if reld <= TOL else "FAIL"
        ok &= status == "ok"
        print(f"{kind:8s} pytorch  {name:7s} max |diff| {absd:.2e} (relative {reld:.2e}) {status}")
    onnx_path = os.path.join(folder, "model.onnx")
    if os.path.exists(onnx_path):
        import onnx
        m = onnx.load(onnx_path)
        onnx.checker.check_model(m, full_check=True)
        opset = max(o.version for o in m.opset_import if o.domain in ("", "ai.onnx"))
        print(f"{kind:8s} onnx     checker ok (opset {opset}, ir_version {m.ir_version})")
    # The way back: weights a PyTorch user changed and saved without tapeml's metadata.
    g = torch.Generator().manual_seed(5)
    with torch.no_grad():
        for name, p in module.state_dict().items():
            if p.is_floating_point():
                p.add_(0.05 * p.abs().mean().clamp(min=1e-3) * torch.randn(p.shape, generator=g, dtype=p.dtype))
    save_file(module.state_dict(), os.path.join(folder, "torch.safetensors"))
    back = outputs(kind, module, inputs)
    json.dump({"kind": kind, "inputs": io["inputs"],
               "outputs": {k: {"dtype": "float32", "shape": list(v.shape), "data": v.double().flatten().tolist()}
                           for k, v in back.items()}},
              open(os.path.join(folder, "torch_io.json"), "w"))
    return ok


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("dir", help="folder written by go run ./tools/roundtrip -out DIR")
    args = ap.parse_args()
    folders = sorted(os.path.join(args.dir, d) for d in os.listdir(args.dir)
                     if os.path.exists(os.path.join(args.dir, d, "io.json")))
    if not folders:
        sys.exit(f"{args.dir}: no model folders (run go run ./tools/roundtrip -out {args.dir} first)")
    ok = all([check(f) for f in folders])
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
