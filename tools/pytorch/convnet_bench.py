#!/usr/bin/env python3
"""Reference throughput: PyTorch training steps of the ConvNet at tapeml's
reference configuration (3×32×32 images, 10 classes, batch 32, SGD lr 0.001
momentum 0.9, dropout 0.5, cross-entropy).

Compare with `go test -run '^$' -bench TrainStep ./models/convnet` on the
same machine, at the same time of day, with the same thread count:

    /usr/bin/python3 tools/pytorch/convnet_bench.py --threads 2

--profile prints PyTorch's per-operator time split (torch.profiler), to set
against the Go benchmark's pprof profile.
"""
import argparse
import os
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from models import ConvNet  # noqa: E402

BATCH = 32


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--steps", type=int, default=50)
    ap.add_argument("--profile", action="store_true", help="print the per-operator time split")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(1)
    model = ConvNet()
    model.train()
    opt = torch.optim.SGD(model.parameters(), lr=1e-3, momentum=0.9)
    loss_fn = torch.nn.CrossEntropyLoss()
    images = torch.randn(20, BATCH, 3, 32, 32)
    labels = torch.randint(0, 10, (20, BATCH))

    def step(i):
        opt.zero_grad()
        loss = loss_fn(model(images[i % 20]), labels[i % 20])
        loss.backward()
        opt.step()

    for i in range(5):  # warm-up: oneDNN picks its kernels on the first calls
        step(i)
    start = time.perf_counter()
    for i in range(args.steps):
        step(i)
    elapsed = time.perf_counter() - start
    print(f"pytorch {torch.__version__} threads {args.threads}: "
          f"{elapsed / args.steps * 1e3:.1f} ms/step, {args.steps * BATCH / elapsed:.0f} samples/s")
    if args.profile:
        from torch.profiler import ProfilerActivity, profile
        with profile(activities=[ProfilerActivity.CPU]) as prof:
            for i in range(10):
                step(i)
        print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=25))


if __name__ == "__main__":
    main()
