#!/usr/bin/env python3
"""Reference throughput: PyTorch training steps of biased matrix factorization
at the shape tapeml's `tapeml bench` trains (MovieLens-1M sizes: 6040 users,
3706 items, 64 factors, batch 256, Adam lr 0.01, MSE plus reg 0.1 times the
squared norms of the batch's rows, dense embedding gradients).

Compare with `tapeml bench --models mf` on the same machine with the same
thread count:

    /usr/bin/python3 tools/pytorch/mf_bench.py --threads 2
"""
import argparse
import time

import torch

from models import MF


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--steps", type=int, default=200)
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--users", type=int, default=6040)
    ap.add_argument("--items", type=int, default=3706)
    ap.add_argument("--reg", type=float, default=0.1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(1)
    model = MF(args.users, args.items)
    for emb in (model.user_factors, model.item_factors):
        torch.nn.init.normal_(emb.weight, std=0.1)
    torch.nn.init.zeros_(model.user_bias.weight)
    torch.nn.init.zeros_(model.item_bias.weight)
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    n = 20 * args.batch
    users = torch.randint(0, args.users, (n,))
    items = torch.randint(0, args.items, (n,))
    ratings = torch.randint(1, 6, (n,)).float()

    def step(i):
        lo = (i % 20) * args.batch
        u, it, r = users[lo:lo + args.batch], items[lo:lo + args.batch], ratings[lo:lo + args.batch]
        opt.zero_grad()
        p, q = model.user_factors(u), model.item_factors(it)
        bu, bi = model.user_bias(u).squeeze(1), model.item_bias(it).squeeze(1)
        pred = model.global_bias + bu + bi + (p * q).sum(1)  # the training graph does not clamp
        norms = (p * p).sum(1) + (q * q).sum(1) + bu * bu + bi * bi
        loss = ((pred - r) ** 2 + args.reg * norms).mean()
        loss.backward()
        opt.step()

    for i in range(10):  # warm-up
        step(i)
    start = time.perf_counter()
    for i in range(args.steps):
        step(i)
    elapsed = time.perf_counter() - start
    print(f"pytorch {torch.__version__} threads {args.threads}: "
          f"{elapsed / args.steps * 1e3:.2f} ms/step, {args.steps * args.batch / elapsed:.0f} samples/s")


if __name__ == "__main__":
    main()
