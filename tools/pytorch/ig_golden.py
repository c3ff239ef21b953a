#!/usr/bin/env python3
"""Write the PyTorch-autograd Integrated Gradients golden of tapeml explain (PyTorch 1.13).

    /usr/bin/python3 tools/pytorch/ig_golden.py [testdata/explain/ig_golden.json]

A small TextCNN and a small ConvNet (models.TextCNN, models.ConvNet) get
weights from a deterministic integer formula that explain_parity_test.go
repeats in Go — so the golden stays a few kilobytes although the ConvNet's
fully connected layers have ~700k weights:

    h = (i·2654435761 + k·40503 + 12345) mod 2³²,   v = (h mod 2001 − 1000) / 1000

for element i (row-major) of the k-th state_dict entry, then per entry
(float64 arithmetic, rounded to float32 as Go's float32(x) does):

    embedding.weight                 v
    *.running_mean                   0.1·v
    *.running_var                    1 + 0.25·(v + 1)
    batch-norm weight (layerX.1.w)   1 + 0.2·v
    other biases (1-D)               0.1·v
    other weights                    3·v / sqrt(fan_in),  fan_in = prod(shape[1:])
    num_batches_tracked              0

Integrated Gradients is computed with autograd in float64 on those float32
weights, in eval mode (dropout off, running statistics), as tapeml defines
it:

  TextCNN  attributions at the embedding output, baseline = the padding
           id's embedding at every position, target = the logit (binary,
           positive class); one score per position, summed over the
           embedding dimension.
  ConvNet  attributions at the input pixels, baseline = a black image
           normalized with MEAN/STD, target = the logit of TARGETS[n];
           one score per pixel, summed over channels.

Quadrature: Gauss–Legendre from numpy.polynomial.legendre.leggauss mapped to
[0, 1], and Captum's riemann_trapezoid (STEPS evenly spaced points, ends
included and weighted by half). Each result records f(x), f(baseline) and
delta = sum(attributions) − (f(x) − f(baseline)).
"""
import json
import math
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from models import ConvNet, TextCNN  # noqa: E402

TEXT_CONFIG = {"num_words": 50, "embed_dim": 8, "filters": 6, "kernel": 3, "pool": 2, "maxlen": 13}
IDS = [
    [0, 0, 0, 0, 0, 0, 0, 12, 5, 33, 7, 49, 2],
    [3, 14, 15, 9, 26, 5, 35, 8, 9, 7, 9, 32, 38],
    [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 41, 1],
]
IMAGE_CONFIG = {"channels": 3, "height": 8, "width": 8, "classes": 3, "dropout": 0.5}
MEAN, STD = [0.3, 0.45, 0.5], [0.25, 0.2, 0.3]
TARGETS = [0, 2]
STEPS = [50, 7]
QUADRATURES = ["gauss", "riemann"]

DEFAULT_OUT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                           "..", "..", "testdata", "explain", "ig_golden.json"))


def formula(k, name, shape):
    """The k-th state_dict entry's values, as explain_parity_test.go makes them."""
    n = int(np.prod(shape)) if len(shape) else 1
    out = np.empty(n, dtype=np.float64)
    for i in range(n):
        h = (i * 2654435761 + k * 40503 + 12345) % (1 << 32)
        v = ((h % 2001) - 1000) / 1000
        if name.endswith("num_batches_tracked"):
            out[i] = 0
        elif name == "embedding.weight":
            out[i] = v
        elif name.endswith("running_mean"):
            out[i] = 0.1 * v
        elif name.endswith("running_var"):
            out[i] = 1 + 0.25 * (v + 1)
        elif name.endswith(".1.weight"):
            out[i] = 1 + 0.2 * v
        elif len(shape) == 1:
            out[i] = 0.1 * v
        else:
            out[i] = 3 * v / math.sqrt(int(np.prod(shape[1:])))
    return out.astype(np.float32).astype(np.float64).reshape(shape)


def load_formula(model):
    sd = model.state_dict()
    new = {}
    for k, (name, t) in enumerate(sd.items()):
        vals = formula(k, name, tuple(t.shape))
        new[name] = torch.tensor(vals, dtype=t.dtype if t.dtype == torch.int64 else torch.float64)
    model.load_state_dict(new)
    return model


def quadrature(kind, steps):
    if kind == "gauss":
        x, w = np.polynomial.legendre.leggauss(steps)
        return (x + 1) / 2, w / 2
    alphas = np.linspace(0, 1, steps)
    w = np.full(steps, 1 / (steps - 1))
    w[0] = w[-1] = 0.5 / (steps - 1)
    return alphas, w


def integrated_gradients(f, x, base, kind, steps):
    """IG of f (one scalar per example) from base to x, both [N, ...]."""
    alphas, weights = quadrature(kind, steps)
    total = torch.zeros_like(x)
    for a, w in zip(alphas, weights):
        p = (base + float(a) * (x - base)).detach().requires_grad_(True)
        g, = torch.autograd.grad(f(p).sum(), p)
        total += float(w) * g
    attr = (x - base) * total
    with torch.no_grad():
        fx, fb = f(x), f(base)
    delta = attr.reshape(attr.shape[0], -1).sum(1) - (fx - fb)
    return attr, fx, fb, delta


def text_case():
    torch.set_default_dtype(torch.float64)
    model = load_formula(TextCNN(**TEXT_CONFIG)).eval()
    ids = torch.tensor(IDS, dtype=torch.int64)
    x = model.embedding(ids).detach()
    base = model.embedding.weight[0].detach().expand_as(x).clone()

    def f(emb):  # TextCNN's forward from the embedding output on
        h = F.relu(model.conv(emb.permute(0, 2, 1)))
        h = F.max_pool1d(h, model.pool)
        return model.fc(torch.flatten(h, 1))[:, 0]

    out = {"config": TEXT_CONFIG, "ids": IDS, "results": []}
    for kind in QUADRATURES:
        for steps in STEPS:
            attr, fx, fb, delta = integrated_gradients(f, x, base, kind, steps)
            out["results"].append({"quadrature": kind, "steps": steps,
                                   "scores": attr.sum(2).tolist(), "f_x": fx.tolist(),
                                   "f_baseline": fb.tolist(), "delta": delta.tolist()})
    return out


def image_case():
    torch.set_default_dtype(torch.float64)
    model = load_formula(ConvNet(**IMAGE_CONFIG)).eval()
    c, h, w = IMAGE_CONFIG["channels"], IMAGE_CONFIG["height"], IMAGE_CONFIG["width"]
    n = len(TARGETS)
    # Raw pixels in 0..255 from an integer formula, normalized as at training.
    raw = torch.tensor([[[[(37 * y + 11 * xx + 71 * ch + 101 * i) % 256 for xx in range(w)] for y in range(h)]
                         for ch in range(c)] for i in range(n)], dtype=torch.float64)
    mean = torch.tensor(MEAN).reshape(1, c, 1, 1)
    std = torch.tensor(STD).reshape(1, c, 1, 1)
    x = ((raw.float() / 255).double() - mean) / std  # Go scales in float32, then normalizes
    x = x.float().double()
    base = ((torch.zeros_like(x) - mean) / std).float().double()
    sel = torch.zeros(n, IMAGE_CONFIG["classes"])
    for i, t in enumerate(TARGETS):
        sel[i, t] = 1

    def f(img):
        return (model(img) * sel).sum(1)

    out = {"config": IMAGE_CONFIG, "mean": MEAN, "std": STD, "targets": TARGETS,
           "pixels": raw.reshape(-1).tolist(), "results": []}
    for kind in QUADRATURES:
        for steps in STEPS:
            attr, fx, fb, delta = integrated_gradients(f, x, base, kind, steps)
            out["results"].append({"quadrature": kind, "steps": steps,
                                   "scores": attr.sum(1).reshape(n, -1).tolist(), "f_x": fx.tolist(),
                                   "f_baseline": fb.tolist(), "delta": delta.tolist()})
    return out


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else DEFAULT_OUT
    golden = {"generator": "tools/pytorch/ig_golden.py, torch " + torch.__version__,
              "textcnn": text_case(), "convnet": image_case()}
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as fh:
        json.dump(golden, fh)
        fh.write("\n")
    print(f"wrote {path} ({os.path.getsize(path)} bytes)")


if __name__ == "__main__":
    main()
