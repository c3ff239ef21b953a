#!/usr/bin/env python3
"""Write the PyTorch parity golden of tapeml's GroupNorm op (PyTorch 1.13).

    /usr/bin/python3 tools/pytorch/groupnorm_golden.py > graph/testdata/groupnorm_golden.json

For each case torch.nn.GroupNorm(groups, C) gets seeded random x, weight and
bias and an upstream gradient R; recorded are y = GroupNorm(x) and the
gradients of sum(y * R) with respect to x, weight and bias, in float64 and
in float32 (inputs rounded to float32 first). Floats are written with
Python's repr, which round-trips exactly through Go's encoding/json.
"""
import json
import sys

import torch


def run(shape, groups, dtype, seed):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(shape, generator=g, dtype=torch.float64) * 2 + 0.5
    w = 1 + 0.5 * torch.randn(shape[1], generator=g, dtype=torch.float64)
    b = 0.5 * torch.randn(shape[1], generator=g, dtype=torch.float64)
    r = torch.randn(shape, generator=g, dtype=torch.float64)
    inputs = {"x": x, "weight": w, "bias": b, "r": r}
    m = torch.nn.GroupNorm(groups, shape[1]).to(dtype)
    with torch.no_grad():
        m.weight.copy_(w.to(dtype))
        m.bias.copy_(b.to(dtype))
    xd = x.to(dtype).requires_grad_(True)
    y = m(xd)
    (y * r.to(dtype)).sum().backward()
    out = {"y": y, "dx": xd.grad, "dweight": m.weight.grad, "dbias": m.bias.grad}
    flat = lambda t: [float(v) for v in t.detach().to(torch.float64).reshape(-1)]
    return {k: flat(v) for k, v in inputs.items()}, {k: flat(v) for k, v in out.items()}


def main():
    cases = []
    for i, (shape, groups) in enumerate([((3, 6, 4, 5), 3), ((2, 64, 3, 3), 32), ((2, 4, 7), 1), ((2, 6, 2, 2), 6)]):
        ins, out64 = run(shape, groups, torch.float64, 100 + i)
        _, out32 = run(shape, groups, torch.float32, 100 + i)
        cases.append({"shape": list(shape), "groups": groups, **ins, "float64": out64, "float32": out32})
    json.dump({"torch": torch.__version__, "cases": cases}, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
