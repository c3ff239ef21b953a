#!/usr/bin/env python3
"""Write the PyTorch parity goldens of tapeml's LSTM op and lstm model (PyTorch 1.13).

    /usr/bin/python3 tools/pytorch/lstm_golden.py [--op PATH] [--model PATH]

Two files, every tensor as {"name", "shape", "data"} with data flattened
row-major, floats written with Python's repr (exact through Go's
encoding/json):

graph/testdata/lstm_parity.json — the op (graph.LSTM) against torch.nn.LSTM
  A 2-layer bidirectional nn.LSTM (batch_first), initialized with PyTorch's
  defaults directly in float64, runs over a batch of sequences of varied
  lengths (one of length 1) packed with pack_padded_sequence. The loss is
  Σ R_out⊙out + Σ R_h⊙h_n + Σ R_c⊙c_n, out being pad_packed_sequence's
  output (zeros after each sequence), with fixed random weights R.
    config        input, hidden, layers, bidirectional
    lengths       [N]; x [N, T, input] post-padded with zeros
    r_out, r_h, r_c, the loss weights, shaped as out, h_n, c_n
    params        the float64 weights in state_dict order
    out [N, T, D·H], h_n and c_n [layers·D, N, H], loss, and grads: dLoss/dx,
                  then every parameter's gradient in state_dict order

models/lstm/testdata/parity.json — the model (models/lstm) against models.RNN
  A small RNN with dropout 0 runs forward and backward on Keras-style
  pre-padded ids (one text of length 1, one all padding) with 0/1 labels and
  the mean BCEWithLogitsLoss, in float64 and in float32 (weights rounded to
  float32), as textcnn_golden.py does:
    config (tapeml's lstm.Config field names), ids, labels, params, and per
    precision logits [N, 1], loss, grads in state_dict order
"""
import argparse
import os
import sys

import torch
from torch import nn

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from models import RNN  # noqa: E402
from textcnn_golden import dumps, tensor_entry  # noqa: E402

SEED = 20240611
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))

OP_CONFIG = {"input": 3, "hidden": 4, "layers": 2, "bidirectional": True}
OP_LENGTHS = [6, 4, 1, 3, 5]
OP_STEPS = 6

MODEL_CONFIG = {"num_words": 30, "embed_dim": 5, "hidden": 4, "layers": 2, "bidirectional": True,
                "dropout": 0.0, "maxlen": 7}
MODEL_LENGTHS = [7, 5, 1, 3, 0, 2]
MODEL_LABELS = [1.0, 0.0, 1.0, 0.0, 1.0, 0.0]


def op_golden():
    torch.manual_seed(SEED)
    c = OP_CONFIG
    lstm = nn.LSTM(c["input"], c["hidden"], num_layers=c["layers"], bidirectional=c["bidirectional"],
                   batch_first=True).double()
    n, d = len(OP_LENGTHS), 2 if c["bidirectional"] else 1
    x = torch.randn(n, OP_STEPS, c["input"], dtype=torch.float64)
    for i, length in enumerate(OP_LENGTHS):
        x[i, length:] = 0
    x.requires_grad_(True)
    r_out = torch.randn(n, OP_STEPS, d * c["hidden"], dtype=torch.float64)
    r_h = torch.randn(c["layers"] * d, n, c["hidden"], dtype=torch.float64)
    r_c = torch.randn(c["layers"] * d, n, c["hidden"], dtype=torch.float64)

    packed = nn.utils.rnn.pack_padded_sequence(x, torch.tensor(OP_LENGTHS), batch_first=True, enforce_sorted=False)
    out, (h, cell) = lstm(packed)
    out, _ = nn.utils.rnn.pad_packed_sequence(out, batch_first=True, total_length=OP_STEPS)
    loss = (r_out * out).sum() + (r_h * h).sum() + (r_c * cell).sum()
    loss.backward()
    return {
        "generator": "tools/pytorch/lstm_golden.py, torch " + torch.__version__,
        "config": c,
        "lengths": OP_LENGTHS,
        "x": tensor_entry("x", x),
        "r_out": tensor_entry("r_out", r_out),
        "r_h": tensor_entry("r_h", r_h),
        "r_c": tensor_entry("r_c", r_c),
        "params": [tensor_entry("rnn." + name, t) for name, t in lstm.state_dict().items()],
        "out": tensor_entry("out", out),
        "h_n": tensor_entry("h_n", h),
        "c_n": tensor_entry("c_n", cell),
        "loss": loss.item(),
        "grads": [tensor_entry("x", x.grad)] + [tensor_entry("rnn." + name, p.grad) for name, p in lstm.named_parameters()],
    }


def model_ids(gen):
    """Pre-padded ids (Keras pad_sequences' default), non-zero ids in [1, num_words)."""
    rows = []
    for n in MODEL_LENGTHS:
        words = torch.randint(1, MODEL_CONFIG["num_words"], (n,), generator=gen).tolist()
        rows.append([0] * (MODEL_CONFIG["maxlen"] - n) + words)
    return torch.tensor(rows, dtype=torch.int64)


def model_run(model, ids, labels):
    model.zero_grad()
    logits = model(ids)
    loss = nn.BCEWithLogitsLoss()(logits.reshape(-1), labels)
    loss.backward()
    return {
        "logits": tensor_entry("logits", logits),
        "loss": loss.item(),
        "grads": [tensor_entry(name, p.grad) for name, p in model.named_parameters()],
    }


def model_golden():
    torch.manual_seed(SEED)
    c = MODEL_CONFIG
    torch.set_default_dtype(torch.float64)  # initialize in float64: weights use every bit
    model = RNN(c["num_words"], c["embed_dim"], c["hidden"], c["layers"], c["bidirectional"], c["dropout"])
    torch.set_default_dtype(torch.float32)
    model.eval()  # dropout is 0 anyway; eval makes the golden independent of it
    ids = model_ids(torch.Generator().manual_seed(SEED))
    labels = torch.tensor(MODEL_LABELS, dtype=torch.float64)
    golden = {
        "generator": "tools/pytorch/lstm_golden.py, torch " + torch.__version__,
        "config": c,
        "ids": ids.tolist(),
        "labels": MODEL_LABELS,
        "params": [tensor_entry(name, t) for name, t in model.state_dict().items()],
        "float64": model_run(model, ids, labels),
    }
    golden["float32"] = model_run(model.float(), ids, labels.float())
    return golden


def write(path, golden):
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "w") as f:
        f.write(dumps(golden))
    print(f"wrote {path}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--op", default=os.path.join(ROOT, "graph", "testdata", "lstm_parity.json"))
    ap.add_argument("--model", default=os.path.join(ROOT, "models", "lstm", "testdata", "parity.json"))
    args = ap.parse_args()
    write(args.op, op_golden())
    write(args.model, model_golden())


if __name__ == "__main__":
    main()
