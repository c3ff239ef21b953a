"""Reference throughput: PyTorch training steps of tapeml's default
transformer (BERT-style post-LN encoder: vocabulary 8000, hidden 128, 2
layers, 4 heads, FFN 512, exact-erf GELU, dropout 0.1; mean pooling over
the tokens and one logit; AdamW, weight decay 0.01, gradient norm clipped
to 1), batch 32, every text --maxlen tokens long (no padding).

Compare with `go test -run '^$' -bench TrainStep ./models/transformer`
(its maxlen128 and maxlen256 cases) on the same machine with the same
thread count:

    /usr/bin/python3 tools/pytorch/transformer_bench.py --threads 2 --maxlen 128
"""
import argparse
import os
import time

# The anchor at its best: PyTorch's intra-op threads (--threads) already
# split the work, and OpenBLAS's own threads on top of them made a step
# slower on the 2-core Zen 5 this was written on (71 against 94 samples/s
# at maxlen 128). OpenBLAS reads the variable when it is loaded, so it is
# set before torch is imported; --blas-threads overrides it.
_pre = argparse.ArgumentParser(add_help=False)
_pre.add_argument("--blas-threads", type=int, default=1)
os.environ["OPENBLAS_NUM_THREADS"] = str(_pre.parse_known_args()[0].blas_threads)

import torch
from torch import nn

from bert_reference import BertConfig, BertModel


class MeanPoolClassifier(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.bert = BertModel(config, add_pooling_layer=False)
        self.classifier = nn.Linear(config.hidden_size, 1)

    def forward(self, ids, mask):
        h, _ = self.bert(ids, attention_mask=mask)
        m = mask.unsqueeze(-1).to(h.dtype)
        return self.classifier((h * m).sum(1) / m.sum(1))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--maxlen", type=int, default=128)
    ap.add_argument("--blas-threads", type=int, default=1, help="OPENBLAS_NUM_THREADS (read before torch is imported)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(1)
    config = BertConfig(vocab_size=8000, hidden_size=128, num_hidden_layers=2, num_attention_heads=4,
                        intermediate_size=512, max_position_embeddings=256, layer_norm_eps=1e-12)
    model = MeanPoolClassifier(config)
    model.train()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.01)
    loss_fn = nn.BCEWithLogitsLoss()
    ids = torch.randint(1, 8000, (20, 32, args.maxlen))
    mask = torch.ones(32, args.maxlen, dtype=torch.long)
    labels = (torch.arange(32) % 2).float().unsqueeze(1)

    def step(i):
        opt.zero_grad()
        loss = loss_fn(model(ids[i % 20], mask), labels)
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()

    for i in range(5):  # warm-up
        step(i)
    start = time.perf_counter()
    for i in range(args.steps):
        step(i)
    elapsed = time.perf_counter() - start
    print(f"pytorch {torch.__version__} threads {args.threads} maxlen {args.maxlen}: "
          f"{elapsed / args.steps * 1e3:.1f} ms/step, {args.steps * 32 / elapsed:.1f} samples/s")


if __name__ == "__main__":
    main()
