#!/usr/bin/env python3
"""Write the PyTorch parity golden of tapeml's Transformer ops (PyTorch 1.13).

    /usr/bin/python3 tools/pytorch/transformer_golden.py [PATH]   # default graph/testdata/transformer_golden.json

Each case runs one module forward and backward in float64 and in float32
(inputs and weights rounded to float32 first), on weights drawn in float64
from a seeded generator at a scale that makes every term matter (not the
modules' small initializers). The loss is Σ y⊙R with a fixed random R, so
every output element has its own upstream gradient. Recorded: the inputs,
the weights (state_dict order), R, and per precision the output y and the
gradients of the loss with respect to the input x (when it is a float
input) and every weight.

Cases, all on batches of mixed lengths with padding after the tokens:
  layernorm      nn.LayerNorm(D) with eps 1e-12 (BERT's) and 1e-5
  gelu           nn.functional.gelu (exact erf form)
  mha            nn.MultiheadAttention(D, H, batch_first=True) with key_padding_mask
  encoder_post   nn.TransformerEncoderLayer(batch_first=True, activation="gelu", dropout=0), post-LN
  encoder_pre    the same with norm_first=True (pre-LN)
  bert           bert_reference.BertModel (Hugging Face's modeling_bert.py, faithfully): embeddings
                 (word + position + token type, LayerNorm) and two BertLayers, no pooler, on ids and
                 token types with the attention mask
Floats are written with Python's repr, exact through Go's encoding/json.
"""
import os
import sys

import torch
from torch import nn

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from bert_reference import BertConfig, BertModel  # noqa: E402
from textcnn_golden import dumps, tensor_entry  # noqa: E402

ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
DEFAULT_OUT = os.path.join(ROOT, "graph", "testdata", "transformer_golden.json")
SEED = 20260526

N, T, D, H, F = 4, 6, 8, 2, 16
LENGTHS = [6, 3, 1, 5]
VOCAB, MAX_POS, TYPES = 13, 10, 2


def mask_of(lengths, t):
    return torch.tensor([[1 if i < l else 0 for i in range(t)] for l in lengths], dtype=torch.float64)


def randomize(module, gen, scale=0.5):
    """Seeded float64 weights; LayerNorm weights around 1."""
    with torch.no_grad():
        for name, p in module.named_parameters():
            v = torch.randn(p.shape, generator=gen, dtype=torch.float64) * scale
            if "norm" in name.lower() and name.endswith("weight"):
                v = 1 + 0.4 * v
            p.copy_(v)


def run(module, dtype, forward, x, r):
    """y = forward(module, x), loss Σ y⊙R; gradients of x (if given) and every parameter."""
    module = module.to(dtype)
    module.zero_grad()
    xd = None
    if x is not None:
        xd = x.detach().to(dtype).clone().requires_grad_(True)
    y = forward(module, xd, dtype)
    (y * r.to(dtype)).sum().backward()
    grads = []
    if xd is not None:
        grads.append(tensor_entry("x", xd.grad))
    grads += [tensor_entry(name, p.grad) for name, p in module.named_parameters()]
    return {"y": tensor_entry("y", y), "grads": grads}


def case(name, config, module, forward, x, inputs, gen, out_shape):
    r = torch.randn(out_shape, generator=gen, dtype=torch.float64)
    entry = {
        "name": name,
        "config": config,
        "inputs": [tensor_entry(k, v) for k, v in inputs.items()],
        "params": [tensor_entry(k, v) for k, v in module.state_dict().items()],
        "r": tensor_entry("r", r),
        "float64": run(module, torch.float64, forward, x, r),
    }
    entry["float32"] = run(module, torch.float32, forward, x, r)
    return entry


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else DEFAULT_OUT
    gen = torch.Generator().manual_seed(SEED)
    torch.manual_seed(SEED)
    torch.set_default_dtype(torch.float64)
    cases = []
    pad = mask_of(LENGTHS, T)  # 1 real, 0 padding
    key_padding = pad == 0     # PyTorch's convention: True at padding

    for eps in (1e-12, 1e-5):
        ln = nn.LayerNorm(D, eps=eps)
        randomize(ln, gen)
        x = torch.randn(3, 4, D, generator=gen) * 2 + 0.5
        cases.append(case(f"layernorm eps={eps}", {"kind": "layernorm", "eps": eps}, ln,
                          lambda m, x, dt: m(x), x, {"x": x}, gen, x.shape))

    x = torch.cat([torch.linspace(-8, 8, 41), torch.randn(19, generator=gen) * 3]).reshape(6, 10)
    cases.append(case("gelu", {"kind": "gelu"}, nn.Identity(), lambda m, x, dt: nn.functional.gelu(x),
                      x, {"x": x}, gen, x.shape))

    mha = nn.MultiheadAttention(D, H, batch_first=True)
    randomize(mha, gen)
    x = torch.randn(N, T, D, generator=gen)
    cases.append(case("mha", {"kind": "mha", "heads": H}, mha,
                      lambda m, x, dt: m(x, x, x, key_padding_mask=key_padding, need_weights=False)[0],
                      x, {"x": x, "mask": pad}, gen, (N, T, D)))

    for norm_first in (False, True):
        layer = nn.TransformerEncoderLayer(D, H, dim_feedforward=F, dropout=0.0, activation="gelu",
                                           batch_first=True, norm_first=norm_first)
        randomize(layer, gen)
        x = torch.randn(N, T, D, generator=gen)
        kind = "encoder_pre" if norm_first else "encoder_post"
        cases.append(case(kind, {"kind": kind, "heads": H, "ffn": F, "eps": layer.norm1.eps}, layer,
                          lambda m, x, dt: m(x, src_key_padding_mask=key_padding),
                          x, {"x": x, "mask": pad}, gen, (N, T, D)))

    config = BertConfig(vocab_size=VOCAB, hidden_size=D, num_hidden_layers=2, num_attention_heads=H,
                        intermediate_size=F, hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0,
                        max_position_embeddings=MAX_POS, type_vocab_size=TYPES)
    bert = BertModel(config, add_pooling_layer=False)
    randomize(bert, gen)
    ids = torch.randint(1, VOCAB, (N, T), generator=gen) * pad.long()  # pad_token_id 0 after the tokens
    types = torch.randint(0, TYPES, (N, T), generator=gen) * pad.long()
    cases.append(case("bert", {"kind": "bert", "heads": H, "ffn": F, "layers": 2, "vocab": VOCAB,
                               "max_position": MAX_POS, "types": TYPES, "eps": config.layer_norm_eps}, bert,
                      lambda m, x, dt: m(ids, pad.long(), types)[0],
                      None, {"ids": ids.double(), "types": types.double(), "mask": pad}, gen, (N, T, D)))

    golden = {"generator": "tools/pytorch/transformer_golden.py, torch " + torch.__version__, "cases": cases}
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    with open(out, "w") as f:
        f.write(dumps(golden))
    print(f"wrote {out}: {len(cases)} cases")


if __name__ == "__main__":
    main()
