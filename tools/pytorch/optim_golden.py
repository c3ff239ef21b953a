#!/usr/bin/env python3
"""Write the golden files of tapeml's train/optim tests with PyTorch 1.13.

    /usr/bin/python3 tools/pytorch/optim_golden.py [train/optim/testdata]

optim_golden.json: for each optimizer configuration, two small parameters
("fc.weight" 3x4 and "fc.bias" 3) are updated for a few steps with fixed fake
gradients (a function of the step and the current value) and a changing
learning rate. Recorded per step: the gradients handed to the optimizer, the
learning rate, the global gradient norm, and the parameters after the step;
at the end, the optimizer state under tapeml's slot keys ("<param>.<slot>").
The Go test replays the recorded gradients, so float32 rounding differences
do not feed back into the gradients.

schedule_golden.json: learning rates of StepLR and ExponentialLR per epoch,
ReduceLROnPlateau after each observed metric, and nanoGPT's get_lr per step.

Configurations use the JSON names of optim.Config; zero fields mean the
PyTorch default, as in Go.
"""
import json
import math
import os
import sys

import torch

STEPS = 6
LRS = {"sgd": [0.1, 0.05, 0.1, 0.02, 0.1, 0.07],
       "adam": [0.01, 0.005, 0.01, 0.002, 0.01, 0.007],
       "rmsprop": [0.01, 0.005, 0.01, 0.002, 0.01, 0.007]}
GRAD_SCALE = [1.0, 0.1, 2.0, 0.5, 3.0, 0.05]  # clipping and AMSGrad's max both get exercised

CASES = [
    ("sgd", {"name": "sgd"}),
    ("sgd_momentum", {"name": "sgd", "momentum": 0.9}),
    ("sgd_momentum_dampening", {"name": "sgd", "momentum": 0.9, "dampening": 0.1}),
    ("sgd_nesterov", {"name": "sgd", "momentum": 0.9, "nesterov": True}),
    ("sgd_weight_decay", {"name": "sgd", "momentum": 0.5, "weight_decay": 0.01}),
    ("sgd_clip", {"name": "sgd", "momentum": 0.9, "clip_norm": 1.0}),
    ("sgd_l1", {"name": "sgd", "l1": 0.01}),
    ("sgd_l1_clip_decay", {"name": "sgd", "momentum": 0.9, "l1": 0.05, "clip_norm": 2.0, "weight_decay": 0.02}),
    ("adam", {"name": "adam"}),
    ("adam_betas_eps", {"name": "adam", "beta1": 0.8, "beta2": 0.99, "eps": 1e-6}),
    ("adam_weight_decay", {"name": "adam", "weight_decay": 0.01}),
    ("adam_amsgrad", {"name": "adam", "amsgrad": True}),
    ("adam_clip_l1", {"name": "adam", "clip_norm": 0.5, "l1": 0.01}),
    ("adamw", {"name": "adamw"}),
    ("adamw_amsgrad_decay", {"name": "adamw", "weight_decay": 0.1, "amsgrad": True}),
    ("rmsprop", {"name": "rmsprop"}),
    ("rmsprop_centered", {"name": "rmsprop", "centered": True}),
    ("rmsprop_momentum", {"name": "rmsprop", "momentum": 0.9}),
    ("rmsprop_all", {"name": "rmsprop", "momentum": 0.5, "centered": True, "alpha": 0.9, "weight_decay": 0.01}),
]


def make_optimizer(cfg, params):
    g = lambda k, d: cfg.get(k) or d
    name = cfg["name"]
    if name == "sgd":
        return torch.optim.SGD(params, lr=0.0, momentum=g("momentum", 0.0), dampening=g("dampening", 0.0),
                               nesterov=g("nesterov", False), weight_decay=g("weight_decay", 0.0))
    if name in ("adam", "adamw"):
        cls = torch.optim.Adam if name == "adam" else torch.optim.AdamW
        wd = g("weight_decay", 0.0 if name == "adam" else 0.01)
        return cls(params, lr=0.0, betas=(g("beta1", 0.9), g("beta2", 0.999)), eps=g("eps", 1e-8),
                   weight_decay=wd, amsgrad=g("amsgrad", False), foreach=False)
    if name == "rmsprop":
        return torch.optim.RMSprop(params, lr=0.0, alpha=g("alpha", 0.99), eps=g("eps", 1e-8),
                                   weight_decay=g("weight_decay", 0.0), momentum=g("momentum", 0.0),
                                   centered=g("centered", False), foreach=False)
    raise ValueError(name)


def initial_params():
    w = torch.tensor([[0.5 * math.sin(1.7 * i + 0.3) for i in range(4 * r, 4 * r + 4)] for r in range(3)],
                     dtype=torch.float32)
    w[1, 2] = 0.0  # sign(0) = 0 for the L1 term
    b = torch.tensor([0.1, -0.2, 0.0], dtype=torch.float32)
    return {"fc.weight": w, "fc.bias": b}


def fake_grad(step, value, offset):
    idx = torch.arange(value.numel(), dtype=torch.float32).reshape(value.shape) + offset
    return (torch.sin(2.0 * value + 0.5 * step + 0.3 * idx) * GRAD_SCALE[step]).to(torch.float32)


def run_case(name, cfg):
    names = ["fc.weight", "fc.bias"]
    init = initial_params()
    params = [init[n].clone().requires_grad_(True) for n in names]
    opt = make_optimizer(cfg, params)
    lrs = LRS["sgd" if cfg["name"] == "sgd" else "adam" if cfg["name"].startswith("adam") else "rmsprop"]
    l1 = cfg.get("l1", 0.0)
    steps = []
    for s in range(STEPS):
        grads = {}
        opt.zero_grad(set_to_none=True)
        loss = 0.0
        for k, (n, p) in enumerate(zip(names, params)):
            gr = fake_grad(s, p.detach(), 100 * k)
            grads[n] = gr.flatten().tolist()
            loss = loss + (p * gr).sum()
            if l1:
                loss = loss + l1 * p.abs().sum()
        loss.backward()  # grad = fake gradient + l1·sign(p), summed in float32
        if cfg.get("clip_norm"):
            norm = torch.nn.utils.clip_grad_norm_(params, cfg["clip_norm"])
        else:
            norm = torch.norm(torch.stack([p.grad.norm() for p in params]))
        for group in opt.param_groups:
            group["lr"] = lrs[s]
        opt.step()
        steps.append({
            "lr": lrs[s],
            "grads": grads,
            "grad_norm": float(norm),
            "params": {n: p.detach().flatten().tolist() for n, p in zip(names, params)},
        })
    state = {}
    for n, p in zip(names, params):
        for key, v in opt.state[p].items():
            if v is None:  # SGD without momentum keeps momentum_buffer = None
                continue
            if key == "step":
                assert int(v) == STEPS, (name, key, v)
                continue
            state[n + "." + key] = v.flatten().tolist()
    return {
        "name": name,
        "config": cfg,
        "init": {n: init[n].flatten().tolist() for n in names},
        "shapes": {n: list(init[n].shape) for n in names},
        "steps": steps,
        "state": state,
    }


def scheduled_lrs(make_scheduler, epochs):
    p = torch.zeros(1, requires_grad=True)
    opt = torch.optim.SGD([p], lr=0.1)
    sched = make_scheduler(opt)
    out = []
    for _ in range(epochs):
        out.append(opt.param_groups[0]["lr"])  # the rate used during this epoch
        opt.step()
        sched.step()
    return out


def plateau_lrs(kwargs, metrics):
    p = torch.zeros(1, requires_grad=True)
    opt = torch.optim.SGD([p], lr=0.1)
    sched = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, **kwargs)
    out = []
    for m in metrics:
        sched.step(m)
        out.append(opt.param_groups[0]["lr"])  # after observing m
    return out


def nanogpt_lr(it, learning_rate, min_lr, warmup_iters, lr_decay_iters):
    # nanoGPT train.py get_lr, verbatim apart from the arguments.
    if it < warmup_iters:
        return learning_rate * (it + 1) / (warmup_iters + 1)
    if it > lr_decay_iters:
        return min_lr
    decay_ratio = (it - warmup_iters) / (lr_decay_iters - warmup_iters)
    assert 0 <= decay_ratio <= 1
    coeff = 0.5 * (1.0 + math.cos(math.pi * decay_ratio))
    return min_lr + coeff * (learning_rate - min_lr)


def schedules():
    loss = [1.0, 0.8, 0.7, 0.69995, 0.7, 0.71, 0.7, 0.65, 0.66, 0.66, 0.66, 0.66, 0.66, 0.66, 0.66, 0.66,
            0.66, 0.66, 0.66, 0.66, 0.66, 0.66, 0.66, 0.66, 0.66, 0.66, 0.66, 0.66, 0.66, 0.66]
    acc = [0.5, 0.6, 0.605, 0.61, 0.7, 0.7, 0.7, 0.7, 0.71, 0.72, 0.73, 0.73, 0.73, 0.73, 0.8, 0.8, 0.8,
           0.8, 0.8, 0.8, 0.8, 0.8, 0.8, 0.8, 0.8, 0.8]
    plateau = [
        {"config": {}, "metrics": loss},
        {"config": {"mode": "max", "factor": 0.5, "patience": 2, "threshold": 0.01, "threshold_mode": "abs",
                    "cooldown": 1, "min_lr": 0.01}, "metrics": acc},
        {"config": {"mode": "max", "factor": 0.3, "patience": 1, "threshold": 0.05}, "metrics": acc},
        {"config": {"threshold_mode": "abs", "patience": 3, "cooldown": 2, "factor": 0.2}, "metrics": loss},
    ]
    for case in plateau:
        c = case["config"]
        kw = {"mode": c.get("mode", "min"), "factor": c.get("factor", 0.1), "patience": c.get("patience", 10),
              "threshold": c.get("threshold", 1e-4), "threshold_mode": c.get("threshold_mode", "rel"),
              "cooldown": c.get("cooldown", 0), "min_lr": c.get("min_lr", 0.0)}
        case["lrs"] = plateau_lrs(kw, case["metrics"])
    cosine = {"base": 6e-4, "min": 6e-5, "warmup_steps": 10, "total_steps": 50}
    cosine["lrs"] = [nanogpt_lr(it, cosine["base"], cosine["min"], cosine["warmup_steps"], cosine["total_steps"])
                     for it in range(60)]
    return {
        "base_lr": 0.1,
        "step_lr": {"gamma": 0.5, "step_size": 3, "lrs": scheduled_lrs(
            lambda o: torch.optim.lr_scheduler.StepLR(o, step_size=3, gamma=0.5), 12)},
        "exponential_lr": {"gamma": 0.9, "lrs": scheduled_lrs(
            lambda o: torch.optim.lr_scheduler.ExponentialLR(o, gamma=0.9), 10)},
        "plateau": plateau,
        "cosine": cosine,
    }


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "train/optim/testdata"
    os.makedirs(out, exist_ok=True)
    torch.set_num_threads(1)
    meta = {"torch": torch.__version__}
    with open(os.path.join(out, "optim_golden.json"), "w") as f:
        json.dump({**meta, "cases": [run_case(n, c) for n, c in CASES]}, f, indent=1)
        f.write("\n")
    with open(os.path.join(out, "schedule_golden.json"), "w") as f:
        json.dump({**meta, **schedules()}, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
