"""Writes imagedata/testdata/resize_golden.json: PyTorch's bilinear resizes
for package imagedata's resize tests.

Run from the repository root with Debian's PyTorch (python3-torch, 1.13):

    /usr/bin/python3 tools/mkimagesample/resize_golden.py

Each case is a random C×H×W float32 image, an optional crop box
(top, left, height, width) and an output size; "output" is
torch.nn.functional.interpolate(mode="bilinear", align_corners=False) of the
crop, with antialias=True (what PIL and imagedata compute; shrinking
averages) and "plain" with antialias=False (torchvision's tensor
RandomResizedCrop before 0.17: identical when enlarging).
"""
import json

import torch
import torch.nn.functional as F

torch.manual_seed(0)
CASES = [
    # (C, H, W), crop or None, (out H, out W)
    ((1, 5, 7), None, (5, 7)),
    ((1, 4, 4), None, (9, 6)),        # enlarge
    ((3, 9, 11), None, (4, 5)),       # shrink, non-integer factors
    ((1, 28, 28), None, (14, 14)),    # shrink by 2
    ((3, 10, 6), None, (3, 17)),      # shrink one axis, enlarge the other
    ((1, 28, 28), (3, 5, 12, 17), (28, 28)),  # RandomResizedCrop-like
    ((3, 32, 32), (0, 10, 32, 9), (32, 32)),
    ((3, 8, 8), (2, 2, 1, 1), (8, 8)),  # a one-pixel crop
]

out = []
for (c, h, w), crop, (oh, ow) in CASES:
    x = torch.rand(c, h, w, dtype=torch.float32)
    region = x
    if crop is not None:
        t, l, ch, cw = crop
        region = x[:, t:t + ch, l:l + cw]
    y = F.interpolate(region[None], size=(oh, ow), mode="bilinear", align_corners=False, antialias=True)[0]
    plain = F.interpolate(region[None], size=(oh, ow), mode="bilinear", align_corners=False)[0]
    out.append({
        "shape": [c, h, w],
        "input": [float("%.9g" % v) for v in x.flatten()],
        "crop": list(crop) if crop is not None else None,
        "size": [oh, ow],
        "output": [float("%.9g" % v) for v in y.flatten()],
        "plain": [float("%.9g" % v) for v in plain.flatten()],
    })

with open("imagedata/testdata/resize_golden.json", "w") as f:
    json.dump({"torch": torch.__version__, "cases": out}, f)
print("wrote imagedata/testdata/resize_golden.json:", len(out), "cases, torch", torch.__version__)
