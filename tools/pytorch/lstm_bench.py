"""Reference throughput: PyTorch training steps of the lstm model (models.RNN)
at tapeml's reference configuration (vocabulary 25000, embedding 100, 2-layer
bidirectional LSTM with hidden 256, dropout 0.5, maxlen 100, batch 32, Adam),
on texts with no padding, as the Go benchmark feeds them.

Compare with `go test -run '^$' -bench TrainStep ./models/lstm` on the same
machine with the same thread count:

    /usr/bin/python3 tools/pytorch/lstm_bench.py --threads 2
"""
import argparse
import resource
import time

import torch

from models import RNN


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--maxlen", type=int, default=100)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(1)
    model = RNN()
    model.train()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = torch.nn.BCEWithLogitsLoss()
    ids = torch.randint(1, 25000, (20, 32, args.maxlen))
    labels = (torch.arange(32) % 2).float().unsqueeze(1)

    def step(i):
        opt.zero_grad()
        loss = loss_fn(model(ids[i % 20]), labels)
        loss.backward()
        opt.step()

    for i in range(2):  # warm-up
        step(i)
    start = time.perf_counter()
    for i in range(args.steps):
        step(i)
    elapsed = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"pytorch {torch.__version__} threads {args.threads}: "
          f"{elapsed / args.steps * 1e3:.0f} ms/step, {args.steps * 32 / elapsed:.1f} samples/s, peak RSS {peak:.0f} MiB")


if __name__ == "__main__":
    main()
