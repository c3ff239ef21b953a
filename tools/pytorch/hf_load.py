#!/usr/bin/env python3
"""Load a Hugging Face model folder — one tapeml export --format hf wrote,
or a fixture — strictly into the PyTorch reference and print its logits on
given token ids (PyTorch 1.13, no transformers install: the classes are
hf_bert_fixture.BertForSequenceClassification, on bert_reference.BertModel,
which follows modeling_bert.py, and
hf_distilbert_fixture.DistilBertForSequenceClassification, which follows
modeling_distilbert.py; their parameter names are Hugging Face's).

    /usr/bin/python3 tools/pytorch/hf_load.py DIR IDS.json [DIR IDS.json …] [--tol 1e-5]
    /usr/bin/python3 tools/pytorch/hf_load.py -      # pairs on stdin, "DIR<tab>IDS.json" a line

The model is built from DIR/config.json (architectures
BertForSequenceClassification or DistilBertForSequenceClassification,
labels from id2label), its float32 state_dict read from
DIR/model.safetensors and loaded with load_state_dict(strict=True): a
missing or unexpected name, or a shape that differs, is an error, as
from_pretrained's strict loading. vocab.txt must have vocab_size lines
and tokenizer_config.json must parse. IDS.json holds {"ids": [[...], ...]}
(rows padded after with id 0; the attention mask is ids != 0, as tapeml's);
the logits are computed in float64 from the float32 weights, eval mode,
and printed as one JSON line {"dir", "architecture", "labels", "logits"}
per folder. When IDS.json also holds "logits" (a golden), the largest
difference is printed to stderr and the exit status is 1 if it is over
--tol. Several folders share one start of PyTorch; with "-" the pairs are
read from stdin, so that a caller can start PyTorch (seconds) before its
folders are ready.
"""
import argparse
import json
import os
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from bert_reference import BertConfig  # noqa: E402
from hf_bert_fixture import BertForSequenceClassification  # noqa: E402
from hf_distilbert_fixture import DistilBertForSequenceClassification  # noqa: E402

try:
    from safetensors.torch import load_file  # the real module, when installed
except ImportError:
    from safetensors_lite import load_file


def fail(msg):
    print(f"hf_load: {msg}", file=sys.stderr)
    sys.exit(2)


def build(config):
    """The reference module config.json describes, and its labels."""
    arch = config.get("architectures") or [None]
    if len(arch) != 1:
        fail(f"config.json: architectures {arch}: want one")
    arch = arch[0]
    id2label = config.get("id2label") or {}
    labels = [id2label[str(i)] for i in range(len(id2label))]
    if len(labels) < 2:
        fail(f"config.json: id2label {id2label}: want at least 2 labels")
    if arch == "BertForSequenceClassification":
        if config.get("model_type") != "bert" or config.get("hidden_act") != "gelu" \
                or config.get("position_embedding_type", "absolute") != "absolute":
            fail("config.json: the reference is BERT with the exact GELU and absolute positions")
        fields = {k: config[k] for k in BertConfig.__dataclass_fields__ if k in config}
        return arch, BertForSequenceClassification(BertConfig(**fields), len(labels)), labels
    if arch == "DistilBertForSequenceClassification":
        if config.get("model_type") != "distilbert" or config.get("activation") != "gelu" \
                or config.get("sinusoidal_pos_embds"):
            fail("config.json: the reference is DistilBERT with the exact GELU and learned positions")
        return arch, DistilBertForSequenceClassification(config, len(labels)), labels
    fail(f"config.json: architecture {arch}: the reference has BertForSequenceClassification and "
         "DistilBertForSequenceClassification")


def run(folder, ids_path, tol):
    """Loads folder strictly, prints its logits on the ids of ids_path; False if a golden there disagrees."""
    with open(os.path.join(folder, "config.json")) as f:
        config = json.load(f)
    with open(os.path.join(folder, "tokenizer_config.json")) as f:
        json.load(f)
    with open(os.path.join(folder, "vocab.txt"), encoding="utf-8") as f:
        vocab = f.read().split("\n")
    if vocab and vocab[-1] == "":
        vocab.pop()
    if len(vocab) != config.get("vocab_size"):
        fail(f"{folder}: vocab.txt has {len(vocab)} tokens, config.json's vocab_size is {config.get('vocab_size')}")

    arch, model, labels = build(config)
    state = load_file(os.path.join(folder, "model.safetensors"))
    for name, t in state.items():
        if t.dtype != torch.float32:
            fail(f"{folder}/model.safetensors: {name} is {t.dtype}, want float32")
    model.load_state_dict(state, strict=True)  # raises on any missing, unexpected or mis-shaped name
    model = model.double().eval()

    with open(ids_path) as f:
        req = json.load(f)
    ids = torch.tensor(req["ids"], dtype=torch.long)
    with torch.no_grad():
        logits = model(ids, (ids != 0).long())
    json.dump({"dir": folder, "architecture": arch, "labels": labels, "logits": logits.tolist()}, sys.stdout)
    sys.stdout.write("\n")
    if "logits" not in req:
        return True
    worst = (logits - torch.tensor(req["logits"], dtype=torch.float64)).abs().max().item()
    print(f"hf_load: {folder}: largest logit difference from {ids_path}: {worst:.3g}", file=sys.stderr)
    return worst <= tol


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("pairs", nargs="+", metavar="DIR IDS.json")
    ap.add_argument("--tol", type=float, default=1e-5)
    a = ap.parse_args()
    pairs = a.pairs
    if pairs == ["-"]:  # the pairs come on stdin, a tab-separated pair a line, once PyTorch has started
        pairs = [p for line in sys.stdin if line.strip() for p in line.rstrip("\n").split("\t")]
    if len(pairs) % 2:
        fail("give pairs of DIR IDS.json")
    ok = True
    for i in range(0, len(pairs), 2):
        ok = run(pairs[i], pairs[i + 1], a.tol) and ok
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
