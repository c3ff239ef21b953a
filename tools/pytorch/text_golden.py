#!/usr/bin/env python3
"""Write the PyTorch parity goldens of tapeml's newer text models (PyTorch 1.13).

    /usr/bin/python3 tools/pytorch/text_golden.py

Each golden is one forward and backward pass of a small model from
models.py — KimTextCNN, FastText, RNN — initialized with PyTorch's defaults
from a fixed seed directly in float64, on one batch of token ids padded
every way a row can be (before the text, after it, not at all, inside it,
and a row of padding only), with its loss: BCEWithLogitsLoss for two
classes, CrossEntropyLoss for more, each with class weights where the
golden says (BCEWithLogitsLoss(weight=w[label]), CrossEntropyLoss(weight=w)).
Dropout is 0 so that the training pass is deterministic.

The JSON layout is textcnn_golden.py's (read by internal/testutil/paritytest):
config (tapeml's field names), ids, labels, params (float64, state_dict
order), and logits, loss and gradients in float64 and in float32 (weights
rounded to float32). Floats are Python's repr, exact through Go's
encoding/json.
"""
import os
import sys

import torch
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from models import FastText, KimTextCNN, RNN  # noqa: E402
from textcnn_golden import dumps, tensor_entry  # noqa: E402

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))

# (text start, text length) per row of maxlen 12: pre-padded, post-padded,
# full, centred, one token, empty.
LAYOUT = [(7, 5), (0, 6), (0, 12), (3, 4), (11, 1), (0, 0)]
MAXLEN = 12


def make_ids(gen, num_words, holes=False):
    rows = []
    for start, n in LAYOUT:
        row = [0] * MAXLEN
        words = torch.randint(1, num_words, (n,), generator=gen).tolist()
        row[start:start + n] = words
        rows.append(row)
    if holes:  # padding inside a text, which no padding mode writes but ids may hold
        rows[2][5] = 0
    return torch.tensor(rows, dtype=torch.int64)


def loss_fn(classes, weights):
    if classes == 2:
        def bce(logits, labels):
            w = None if weights is None else torch.tensor(weights, dtype=logits.dtype)[labels.long()]
            return nn.BCEWithLogitsLoss(weight=w)(logits.reshape(-1), labels)
        return bce

    def ce(logits, labels):
        w = None if weights is None else torch.tensor(weights, dtype=logits.dtype)
        return nn.CrossEntropyLoss(weight=w)(logits, labels.long())
    return ce


def run(model, ids, labels, loss):
    model.zero_grad()
    logits = model(ids)
    value = loss(logits, labels)
    value.backward()
    return {
        "logits": tensor_entry("logits", logits),
        "loss": value.item(),
        "grads": [tensor_entry(name, p.grad) for name, p in model.named_parameters()],
    }


def golden(name, out, seed, make_model, config, classes, weights, holes=False):
    torch.manual_seed(seed)
    torch.set_default_dtype(torch.float64)
    model = make_model()
    torch.set_default_dtype(torch.float32)
    gen = torch.Generator().manual_seed(seed)
    ids = make_ids(gen, config["num_words"], holes)
    labels = [float(i % classes) for i in range(len(LAYOUT))]
    loss = loss_fn(classes, weights)
    g = {
        "generator": "tools/pytorch/text_golden.py (" + name + "), torch " + torch.__version__,
        "config": config,
        "ids": ids.tolist(),
        "labels": labels,
        "params": [tensor_entry(n, t) for n, t in model.state_dict().items()],
        "float64": run(model, ids, torch.tensor(labels, dtype=torch.float64), loss),
    }
    g["float32"] = run(model.float(), ids, torch.tensor(labels, dtype=torch.float32), loss)
    path = os.path.join(ROOT, out)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(dumps(g))
    print(f"wrote {out}: loss float64 {g['float64']['loss']!r}, float32 {g['float32']['loss']!r}")


def perturb_norm(model):
    with torch.no_grad():
        model.norm.weight.add_(torch.randn(model.norm.weight.shape) * 0.3)
        model.norm.bias.add_(torch.randn(model.norm.bias.shape) * 0.3)
    return model


def main():
    kim = {"arch": "kim", "num_words": 40, "embed_dim": 6, "filters": 5, "widths": [2, 3, 5], "maxlen": MAXLEN}
    golden("kim, 3 classes, CrossEntropyLoss(weight)", "models/textcnn/testdata/kim_parity.json", 20250101,
           lambda: KimTextCNN(40, 6, 5, (2, 3, 5), 0.0, 3), dict(kim, classes=3, class_weights=[1.0, 0.5, 2.5]), 3, [1.0, 0.5, 2.5])
    golden("kim, binary", "models/textcnn/testdata/kim_binary_parity.json", 20250102,
           lambda: KimTextCNN(40, 6, 5, (2, 3, 5), 0.0, 2), dict(kim, classes=2), 2, None)
    # LayerNorm's affine starts at 1 and 0: perturb it so that the golden checks both.
    golden("kim, binary, LayerNorm", "models/textcnn/testdata/kim_norm_parity.json", 20250106,
           lambda: perturb_norm(KimTextCNN(40, 6, 5, (2, 3, 5), 0.0, 2, norm="layer")),
           dict(kim, classes=2, norm="layer", class_weights=[0.5, 1.0]), 2, [0.5, 1.0], holes=True)
    ft = {"num_words": 40, "buckets": 17, "embed_dim": 6, "maxlen": MAXLEN}
    golden("fasttext, binary, BCEWithLogitsLoss(weight)", "models/fasttext/testdata/parity.json", 20250103,
           lambda: FastText(40, 17, 6, 2), dict(ft, classes=2, class_weights=[0.5, 3.0]), 2, [0.5, 3.0], holes=True)
    golden("fasttext, 4 classes", "models/fasttext/testdata/classes_parity.json", 20250104,
           lambda: FastText(40, 17, 6, 4), dict(ft, classes=4), 4, None, holes=True)
    lstm = {"num_words": 40, "embed_dim": 4, "hidden": 3, "layers": 2, "bidirectional": True, "dropout": 0.0, "maxlen": MAXLEN}
    golden("lstm, 3 classes", "models/lstm/testdata/classes_parity.json", 20250105,
           lambda: RNN(40, 4, 3, 2, True, 0.0, 3), dict(lstm, classes=3), 3, None)


if __name__ == "__main__":
    main()
