"""Reference throughput: PyTorch training steps of the TextCNN at tapeml's
reference configuration (vocabulary 10000, maxlen 100, batch 32, Adam).

Compare with `go test -run '^$' -bench TrainStep ./models/textcnn` on the
same machine with the same thread count:

    /usr/bin/python3 tools/pytorch/textcnn_bench.py --threads 2
"""
import argparse
import time

import torch

from models import TextCNN


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--steps", type=int, default=100)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(1)
    model = TextCNN()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = torch.nn.BCEWithLogitsLoss()
    ids = torch.randint(0, 10000, (20, 32, 100))
    labels = (torch.arange(32) % 2).float().unsqueeze(1)

    def step(i):
        opt.zero_grad()
        loss = loss_fn(model(ids[i % 20]), labels)
        loss.backward()
        opt.step()

    for i in range(10):  # warm-up
        step(i)
    start = time.perf_counter()
    for i in range(args.steps):
        step(i)
    elapsed = time.perf_counter() - start
    print(f"pytorch {torch.__version__} threads {args.threads}: "
          f"{elapsed / args.steps * 1e3:.2f} ms/step, {args.steps * 32 / elapsed:.0f} samples/s")


if __name__ == "__main__":
    main()
