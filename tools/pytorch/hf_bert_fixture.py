#!/usr/bin/env python3
"""Write a small random BertForSequenceClassification in Hugging Face's
layout, and its logits, for tapeml's import tests (PyTorch 1.13, no
transformers install: the model is bert_reference.BertModel, which follows
modeling_bert.py, plus BertForSequenceClassification's head as there:
dropout on the pooled output, then Linear(hidden_size, num_labels)).

    /usr/bin/python3 tools/pytorch/hf_bert_fixture.py [DIR]   # default models/transformer/testdata/hf-bert

It also writes DIR-model (hf-bertmodel): the same encoder saved as a
BertModel (state_dict names without "bert.", no classifier, no labels in
config.json), whose golden.json holds the pooler's output for the same ids.

DIR gets what save_pretrained and a BertTokenizer write:
  config.json        BertConfig.to_dict() fields, architectures ["BertForSequenceClassification"]
  model.safetensors  the state_dict in float32 (names "bert.…", "classifier.…"), metadata format "pt"
  vocab.txt          one token per line ([PAD] [UNK] [CLS] [SEP] [MASK] first, as BERT's)
  tokenizer_config.json  do_lower_case true
and golden.json: token ids of a batch of mixed lengths (padded after with
[PAD], id 0), their attention mask, and the logits the reference computes
from the float32 weights in float64 (eval mode), for tapeml to match
without Python. Floats are written with Python's repr.
"""
import json
import os
import struct
import sys

import torch
from torch import nn

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from bert_reference import BertConfig, BertModel  # noqa: E402

ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
DEFAULT_OUT = os.path.join(ROOT, "models", "transformer", "testdata", "hf-bert")
SEED = 20261206

VOCAB = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", ".", ",", "!", "?",
         "the", "a", "free", "money", "click", "now", "meeting", "monday", "see", "you", "at",
         "win", "prize", "cash", "team", "goal", "rain", "snow", "bank", "loan", "stock",
         "##s", "##ing", "##ed", "##er", "##ly", "un", "##able", "re", "##do",
         "免", "费", "银", "行", "天", "气", "下", "雨",
         "a", "b", "c", "d", "e", "##a", "##b", "##c", "##d", "##e", "x", "y", "z", "##x", "##y"]
# no duplicates in a real vocabulary: drop the second "a"
VOCAB = list(dict.fromkeys(VOCAB))


class BertForSequenceClassification(nn.Module):
    def __init__(self, config, num_labels):
        super().__init__()
        self.bert = BertModel(config)
        self.dropout = nn.Dropout(config.hidden_dropout_prob)
        self.classifier = nn.Linear(config.hidden_size, num_labels)
        self.classifier.weight.data.normal_(mean=0.0, std=config.initializer_range)
        self.classifier.bias.data.zero_()

    def forward(self, input_ids, attention_mask=None, token_type_ids=None):
        _, pooled = self.bert(input_ids, attention_mask, token_type_ids)
        return self.classifier(self.dropout(pooled))


def write_safetensors(path, tensors):
    header, offset, blobs = {}, 0, []
    for name, t in tensors:
        b = t.detach().to(torch.float32).contiguous().numpy().tobytes()
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [offset, offset + len(b)]}
        offset += len(b)
        blobs.append(b)
    header["__metadata__"] = {"format": "pt"}
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else DEFAULT_OUT
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(SEED)
    cfg = BertConfig(vocab_size=len(VOCAB), hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                     intermediate_size=64, max_position_embeddings=24, type_vocab_size=2,
                     initializer_range=0.2)  # larger than BERT's 0.02, so every weight moves the logits
    labels = ["finance", "sport", "weather"]
    model = BertForSequenceClassification(cfg, len(labels))
    with torch.no_grad():  # random LayerNorm affines and biases, which the initializer leaves at 1 and 0
        for name, p in model.named_parameters():
            if "LayerNorm" in name or name.endswith(".bias"):
                p.add_(0.1 * torch.randn_like(p))
        model.bert.embeddings.word_embeddings.weight[0].zero_()
    model.eval()
    state = [(k, v) for k, v in model.state_dict().items()]
    write_safetensors(os.path.join(out, "model.safetensors"), state)
    config = {
        "architectures": ["BertForSequenceClassification"], "model_type": "bert",
        "vocab_size": cfg.vocab_size, "hidden_size": cfg.hidden_size, "num_hidden_layers": cfg.num_hidden_layers,
        "num_attention_heads": cfg.num_attention_heads, "intermediate_size": cfg.intermediate_size,
        "hidden_act": "gelu", "hidden_dropout_prob": cfg.hidden_dropout_prob,
        "attention_probs_dropout_prob": cfg.attention_probs_dropout_prob,
        "max_position_embeddings": cfg.max_position_embeddings, "type_vocab_size": cfg.type_vocab_size,
        "initializer_range": cfg.initializer_range, "layer_norm_eps": cfg.layer_norm_eps,
        "pad_token_id": cfg.pad_token_id, "position_embedding_type": "absolute",
        "id2label": {str(i): l for i, l in enumerate(labels)}, "label2id": {l: i for i, l in enumerate(labels)},
        "torch_dtype": "float32", "transformers_version": "4.46.0",
    }
    with open(os.path.join(out, "config.json"), "w") as f:
        json.dump(config, f, indent=2)
        f.write("\n")
    with open(os.path.join(out, "vocab.txt"), "w") as f:
        f.write("\n".join(VOCAB) + "\n")
    with open(os.path.join(out, "tokenizer_config.json"), "w") as f:
        json.dump({"do_lower_case": True, "tokenizer_class": "BertTokenizer"}, f, indent=2)
        f.write("\n")

    # A batch of mixed lengths: [CLS] pieces [SEP], padded after to T.
    T = cfg.max_position_embeddings
    gen = torch.Generator().manual_seed(SEED + 1)
    rows, masks = [], []
    for n in [3, 11, 24, 7]:
        pieces = torch.randint(5, len(VOCAB), (n - 2,), generator=gen).tolist()
        row = [2] + pieces + [3]
        rows.append(row + [0] * (T - n))
        masks.append([1] * n + [0] * (T - n))
    ids, mask = torch.tensor(rows), torch.tensor(masks)
    ref = BertForSequenceClassification(cfg, len(labels)).double()
    ref.load_state_dict({k: v.to(torch.float32).double() for k, v in model.state_dict().items()})
    ref.eval()
    with torch.no_grad():
        logits = ref(ids, mask)
    golden = {"ids": rows, "attention_mask": masks, "logits": logits.tolist(), "labels": labels}
    with open(os.path.join(out, "golden.json"), "w") as f:
        json.dump(golden, f)
        f.write("\n")

    # The encoder alone, as BertModel.save_pretrained writes it.
    out2 = out.rstrip("/") + "model"
    os.makedirs(out2, exist_ok=True)
    write_safetensors(os.path.join(out2, "model.safetensors"), list(model.bert.state_dict().items()))
    config2 = {k: v for k, v in config.items() if k not in ("id2label", "label2id")}
    config2["architectures"] = ["BertModel"]
    with open(os.path.join(out2, "config.json"), "w") as f:
        json.dump(config2, f, indent=2)
        f.write("\n")
    with open(os.path.join(out2, "vocab.txt"), "w") as f:
        f.write("\n".join(VOCAB) + "\n")
    with torch.no_grad():
        _, pooled = ref.bert(ids, mask)
    with open(os.path.join(out2, "golden.json"), "w") as f:
        json.dump({"ids": rows, "attention_mask": masks, "pooled": pooled.tolist()}, f)
        f.write("\n")


if __name__ == "__main__":
    main()
