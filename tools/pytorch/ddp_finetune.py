#!/usr/bin/python3
"""Fine-tune a tapeml export with PyTorch DistributedDataParallel (gloo).

The hand-off for training beyond what one machine does in time:

    tapeml export --checkpoint runs/spam --out spam.safetensors
    /usr/bin/python3 tools/pytorch/ddp_finetune.py --weights spam.safetensors \\
        --data train.safetensors --out tuned.safetensors --world-size 2
    tapeml import --weights tuned.safetensors --out runs/tuned

It builds the module from the export's metadata (``models.from_config``),
loads the weights with ``strict=True``, starts ``--world-size`` processes
with ``torch.multiprocessing.spawn`` (Debian's ``torchrun`` fails on
Python 3.11) that join a gloo process group at ``--master-addr`` (default
127.0.0.1) and train the module wrapped in DistributedDataParallel, each on
its DistributedSampler shard. Rank 0 writes the weights under the same
names with the export's tapeml metadata (plus ``tapeml.ddp``, a record of
the run), so ``tapeml import`` takes them back without ``--like``.

Across machines, run the same script on each with ``--nodes N
--node-rank R --master-addr HOST`` (one process group of N × world-size
ranks); on one machine the defaults do.

--data is a safetensors file (or JSONL) of the examples as the model sees
them: ``inputs`` (token ids, int64 [N, maxlen], for textcnn and lstm;
normalized images, float32 [N, C, H, W], for convnet) and ``targets``
(0/1 labels for the binary text models, class indices for convnet). JSONL
lines are {"tokens": [...], "label": y} — ``tokens`` is what ``tapeml
predict --json`` prints — or {"image": [[[...]]], "label": k}.

--probe FILE (inputs only, same layout) makes rank 0 write the fine-tuned
module's eval-mode logits for it to --probe-out, so that tapeml's
predictions from the imported weights can be compared with PyTorch's
(cmd/tapeml TestDDPRoundTrip does).

The loss is BCEWithLogitsLoss for textcnn and lstm, CrossEntropyLoss for
convnet. Each process runs --threads intra-op threads (default 1: one core
per process). After training every rank's parameters are compared (DDP
keeps them identical); a mismatch is an error.
"""
import argparse
import json
import os
import socket
import sys

import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from torch.nn.parallel import DistributedDataParallel as DDP
from torch.utils.data import DataLoader, TensorDataset
from torch.utils.data.distributed import DistributedSampler

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import models  # noqa: E402

try:
    from safetensors import safe_open
    from safetensors.torch import load_file, save_file
except ImportError:  # Debian 12 has no python3-safetensors
    from safetensors_lite import load_file, safe_open, save_file

NEURAL = ("textcnn", "lstm", "convnet")


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--weights", required=True, help="a tapeml export (.safetensors with tapeml metadata)")
    p.add_argument("--data", required=True, help="training examples: .safetensors (inputs, targets) or .jsonl")
    p.add_argument("--out", required=True, help="where rank 0 writes the fine-tuned weights")
    p.add_argument("--probe", help="inputs to predict after training (.safetensors with inputs, or .jsonl)")
    p.add_argument("--probe-out", help="where rank 0 writes the probe's logits (.safetensors, tensor logits)")
    p.add_argument("--world-size", type=int, default=2, help="processes on this machine (default 2)")
    p.add_argument("--nodes", type=int, default=1, help="machines taking part (default 1)")
    p.add_argument("--node-rank", type=int, default=0, help="this machine's index (default 0)")
    p.add_argument("--master-addr", default="127.0.0.1", help="rank 0's address (default 127.0.0.1)")
    p.add_argument("--master-port", type=int, default=0, help="rank 0's port (default: a free one; give it with --nodes > 1)")
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--batch", type=int, default=32, help="examples per process and step (the global batch is batch × ranks)")
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--optimizer", choices=("adam", "sgd"), default="adam")
    p.add_argument("--momentum", type=float, default=0.9, help="sgd only")
    p.add_argument("--seed", type=int, default=1, help="seed of the shuffling")
    p.add_argument("--threads", type=int, default=1, help="intra-op threads per process")
    a = p.parse_args(argv)
    if a.world_size < 1 or a.nodes < 1 or not 0 <= a.node_rank < a.nodes:
        p.error("--world-size and --nodes must be at least 1, --node-rank in [0, nodes)")
    if a.nodes > 1 and a.master_port == 0:
        p.error("--nodes > 1 needs an agreed --master-port")
    if a.epochs < 1 or a.batch < 1 or not a.lr > 0:
        p.error("--epochs and --batch must be at least 1 and --lr positive")
    if (a.probe is None) != (a.probe_out is None):
        p.error("--probe and --probe-out go together")
    return a


def read_export(path):
    """The export's tensors, metadata, kind and module (weights loaded, strict)."""
    with safe_open(path, "pt") as f:
        meta = f.metadata() or {}
    kind = meta.get("tapeml.kind")
    if kind not in NEURAL:
        raise SystemExit(f"{path}: tapeml.kind is {kind!r}; DDP fine-tuning covers {', '.join(NEURAL)}")
    model = models.from_config(kind, json.loads(meta["tapeml.model_config"]))
    state = load_file(path)
    model.load_state_dict(state, strict=True)
    return meta, kind, model


def read_examples(path, kind, need_targets=True):
    """inputs (and targets) of a .safetensors or .jsonl file, typed for kind."""
    if path.endswith(".jsonl"):
        xs, ys = [], []
        field = "image" if kind == "convnet" else "tokens"
        with open(path) as f:
            for n, line in enumerate(f, 1):
                if not line.strip():
                    continue
                try:
                    row = json.loads(line)
                    xs.append(row[field])
                    if need_targets:
                        ys.append(row["label"])
                except (ValueError, KeyError) as e:
                    raise SystemExit(f"{path}:{n}: want a JSON object with {field!r} and 'label': {e}")
        inputs = torch.tensor(xs, dtype=torch.float32 if kind == "convnet" else torch.int64)
        targets = torch.tensor(ys) if need_targets else None
    else:
        t = load_file(path)
        if "inputs" not in t or (need_targets and "targets" not in t):
            raise SystemExit(f"{path}: want tensors 'inputs' and 'targets', found {sorted(t)}")
        inputs, targets = t["inputs"], t.get("targets")
    inputs = inputs.float() if kind == "convnet" else inputs.long()
    if targets is not None:
        targets = targets.long() if kind == "convnet" else targets.float()
        if len(targets) != len(inputs):
            raise SystemExit(f"{path}: {len(inputs)} inputs but {len(targets)} targets")
    return inputs, targets


def loss_fn(kind):
    if kind == "convnet":
        return torch.nn.CrossEntropyLoss()
    bce = torch.nn.BCEWithLogitsLoss()
    return lambda logits, y: bce(logits[:, 0], y)


def atomic_save(tensors, path, metadata=None):
    tmp = path + ".tmp"
    save_file(tensors, tmp, metadata=metadata)
    os.replace(tmp, path)


def worker(local_rank, a, port):
    rank = a.node_rank * a.world_size + local_rank
    world = a.nodes * a.world_size
    os.environ["MASTER_ADDR"], os.environ["MASTER_PORT"] = a.master_addr, str(port)
    torch.set_num_threads(a.threads)
    dist.init_process_group("gloo", rank=rank, world_size=world)
    try:
        train(rank, world, a)
    finally:
        dist.destroy_process_group()


def train(rank, world, a):
    meta, kind, model = read_export(a.weights)
    inputs, targets = read_examples(a.data, kind)
    data = TensorDataset(inputs, targets)
    sampler = DistributedSampler(data, num_replicas=world, rank=rank, shuffle=True, seed=a.seed)
    loader = DataLoader(data, batch_size=a.batch, sampler=sampler)
    ddp = DDP(model)  # broadcasts rank 0's parameters and buffers
    if a.optimizer == "adam":
        opt = torch.optim.Adam(ddp.parameters(), lr=a.lr)
    else:
        opt = torch.optim.SGD(ddp.parameters(), lr=a.lr, momentum=a.momentum)
    criterion = loss_fn(kind)
    steps = 0
    for epoch in range(a.epochs):
        sampler.set_epoch(epoch)
        ddp.train()
        total, seen = torch.zeros(2, dtype=torch.float64), 0
        for x, y in loader:
            opt.zero_grad()
            loss = criterion(ddp(x), y)
            loss.backward()  # gradients all-reduced (averaged) across ranks here
            opt.step()
            total[0] += loss.item() * len(x)
            total[1] += len(x)
            steps += 1
        dist.all_reduce(total)
        if rank == 0:
            print(f"epoch {epoch + 1}/{a.epochs}  train/loss {total[0] / total[1]:.4f}  "
                  f"({int(total[1])} examples on {world} ranks)", flush=True)

    # DDP keeps the parameters identical on every rank; check it.
    flat = torch.cat([p.detach().double().flatten() for p in model.parameters()])
    mine = torch.stack([flat.sum(), (flat * flat).sum(), flat.abs().max()])
    every = [torch.zeros_like(mine) for _ in range(world)]
    dist.all_gather(every, mine)
    if any(not torch.equal(e, every[0]) for e in every):
        raise SystemExit(f"rank {rank}: parameters differ across ranks: {[e.tolist() for e in every]}")

    if rank == 0:
        meta = dict(meta)
        meta["tapeml.ddp"] = json.dumps({"backend": "gloo", "ranks": world, "epochs": a.epochs, "steps": steps,
                                         "batch_per_rank": a.batch, "optimizer": a.optimizer, "lr": a.lr,
                                         "torch": torch.__version__})
        atomic_save({k: v.contiguous() for k, v in model.state_dict().items()}, a.out, metadata=meta)
        print(f"weights: {a.out}", flush=True)
        if a.probe:
            probe, _ = read_examples(a.probe, kind, need_targets=False)
            model.eval()
            with torch.no_grad():
                logits = model(probe).float().contiguous()
            atomic_save({"logits": logits}, a.probe_out)
            print(f"probe logits {list(logits.shape)}: {a.probe_out}", flush=True)
    dist.barrier()


def free_port(addr):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((addr, 0))
        return s.getsockname()[1]


def main(argv=None):
    a = parse_args(argv)
    read_export(a.weights)  # fail here, once, on a bad file rather than in every rank
    port = a.master_port or free_port(a.master_addr)
    mp.spawn(worker, args=(a, port), nprocs=a.world_size, join=True)


if __name__ == "__main__":
    main()
