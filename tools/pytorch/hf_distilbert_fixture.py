#!/usr/bin/env python3
"""Write a small random DistilBertForSequenceClassification in Hugging
Face's layout, and its logits, for tapeml's import tests (PyTorch 1.13, no
transformers install). The module follows transformers'
src/transformers/models/distilbert/modeling_distilbert.py:

  - Embeddings: word (padding_idx = pad_token_id) + learned position
    embeddings of arange(T) (no token types), LayerNorm(eps 1e-12), dropout;
  - MultiHeadSelfAttention: q_lin, k_lin, v_lin; q / √(dim/n_heads);
    scores q·kᵀ, masked_fill(mask == 0, finfo.min); softmax; dropout;
    context; out_lin;
  - FFN: lin1, exact GELU, lin2, dropout;
  - TransformerBlock: sa_layer_norm(attention + x), then
    output_layer_norm(ffn + that), both eps 1e-12;
  - DistilBertForSequenceClassification: hidden_state[:, 0] →
    pre_classifier → ReLU → dropout(seq_classif_dropout) → classifier.

    /usr/bin/python3 tools/pytorch/hf_distilbert_fixture.py [DIR]   # default models/transformer/testdata/hf-distilbert

DIR gets config.json, model.safetensors (float32), vocab.txt,
tokenizer_config.json and golden.json (ids, attention mask, the logits in
float64 from the float32 weights, eval mode), as hf_bert_fixture.py.
"""
import json
import math
import os
import sys

import torch
from torch import nn

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from hf_bert_fixture import VOCAB, write_safetensors  # noqa: E402

ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
DEFAULT_OUT = os.path.join(ROOT, "models", "transformer", "testdata", "hf-distilbert")
SEED = 20261207
CFG = dict(vocab_size=len(VOCAB), max_position_embeddings=24, sinusoidal_pos_embds=False, n_layers=2, n_heads=4,
           dim=32, hidden_dim=64, dropout=0.1, attention_dropout=0.1, activation="gelu", initializer_range=0.2,
           qa_dropout=0.1, seq_classif_dropout=0.2, pad_token_id=0)


class Embeddings(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.word_embeddings = nn.Embedding(c["vocab_size"], c["dim"], padding_idx=c["pad_token_id"])
        self.position_embeddings = nn.Embedding(c["max_position_embeddings"], c["dim"])
        self.LayerNorm = nn.LayerNorm(c["dim"], eps=1e-12)
        self.dropout = nn.Dropout(c["dropout"])

    def forward(self, input_ids):
        pos = torch.arange(input_ids.size(1), dtype=torch.long).unsqueeze(0).expand_as(input_ids)
        return self.dropout(self.LayerNorm(self.word_embeddings(input_ids) + self.position_embeddings(pos)))


class MultiHeadSelfAttention(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.n_heads, self.dim = c["n_heads"], c["dim"]
        self.dropout = nn.Dropout(p=c["attention_dropout"])
        self.q_lin = nn.Linear(c["dim"], c["dim"])
        self.k_lin = nn.Linear(c["dim"], c["dim"])
        self.v_lin = nn.Linear(c["dim"], c["dim"])
        self.out_lin = nn.Linear(c["dim"], c["dim"])

    def forward(self, x, mask):
        bs, k_length, _ = x.size()
        dph = self.dim // self.n_heads

        def shape(t):
            return t.view(bs, -1, self.n_heads, dph).transpose(1, 2)

        q, k, v = shape(self.q_lin(x)), shape(self.k_lin(x)), shape(self.v_lin(x))
        q = q / math.sqrt(dph)
        scores = torch.matmul(q, k.transpose(2, 3))
        m = (mask == 0).view(bs, 1, 1, k_length).expand_as(scores)
        scores = scores.masked_fill(m, torch.tensor(torch.finfo(scores.dtype).min))
        weights = self.dropout(nn.functional.softmax(scores, dim=-1))
        context = torch.matmul(weights, v).transpose(1, 2).contiguous().view(bs, -1, self.n_heads * dph)
        return self.out_lin(context)


class FFN(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.dropout = nn.Dropout(p=c["dropout"])
        self.lin1 = nn.Linear(c["dim"], c["hidden_dim"])
        self.lin2 = nn.Linear(c["hidden_dim"], c["dim"])

    def forward(self, x):
        return self.dropout(self.lin2(nn.functional.gelu(self.lin1(x))))


class TransformerBlock(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.attention = MultiHeadSelfAttention(c)
        self.sa_layer_norm = nn.LayerNorm(c["dim"], eps=1e-12)
        self.ffn = FFN(c)
        self.output_layer_norm = nn.LayerNorm(c["dim"], eps=1e-12)

    def forward(self, x, mask):
        sa = self.sa_layer_norm(self.attention(x, mask) + x)
        return self.output_layer_norm(self.ffn(sa) + sa)


class Transformer(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.layer = nn.ModuleList([TransformerBlock(c) for _ in range(c["n_layers"])])

    def forward(self, x, mask):
        for layer in self.layer:
            x = layer(x, mask)
        return x


class DistilBertModel(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.embeddings = Embeddings(c)
        self.transformer = Transformer(c)

    def forward(self, input_ids, mask):
        return self.transformer(self.embeddings(input_ids), mask)


class DistilBertForSequenceClassification(nn.Module):
    def __init__(self, c, num_labels):
        super().__init__()
        self.distilbert = DistilBertModel(c)
        self.pre_classifier = nn.Linear(c["dim"], c["dim"])
        self.classifier = nn.Linear(c["dim"], num_labels)
        self.dropout = nn.Dropout(c["seq_classif_dropout"])

    def forward(self, input_ids, mask):
        pooled = self.distilbert(input_ids, mask)[:, 0]
        return self.classifier(self.dropout(nn.ReLU()(self.pre_classifier(pooled))))


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else DEFAULT_OUT
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(SEED)
    labels = ["finance", "sport", "weather"]
    model = DistilBertForSequenceClassification(CFG, len(labels))
    with torch.no_grad():  # _init_weights at a larger scale, and random LayerNorm affines and biases
        for name, p in model.named_parameters():
            if "layer_norm" in name or "LayerNorm" in name or name.endswith(".bias"):
                p.copy_((1.0 if name.endswith(".weight") else 0.0) + 0.1 * torch.randn_like(p))
            else:
                p.normal_(0.0, CFG["initializer_range"])
        model.distilbert.embeddings.word_embeddings.weight[0].zero_()
    model.eval()
    write_safetensors(os.path.join(out, "model.safetensors"), list(model.state_dict().items()))
    config = dict(CFG, architectures=["DistilBertForSequenceClassification"], model_type="distilbert",
                  id2label={str(i): l for i, l in enumerate(labels)}, label2id={l: i for i, l in enumerate(labels)},
                  torch_dtype="float32", transformers_version="4.46.0")
    with open(os.path.join(out, "config.json"), "w") as f:
        json.dump(config, f, indent=2)
        f.write("\n")
    with open(os.path.join(out, "vocab.txt"), "w") as f:
        f.write("\n".join(VOCAB) + "\n")
    with open(os.path.join(out, "tokenizer_config.json"), "w") as f:
        json.dump({"do_lower_case": True, "tokenizer_class": "DistilBertTokenizer"}, f, indent=2)
        f.write("\n")
    T = CFG["max_position_embeddings"]
    gen = torch.Generator().manual_seed(SEED + 1)
    rows, masks = [], []
    for n in [5, 24, 2, 13]:
        row = [2] + torch.randint(5, len(VOCAB), (n - 2,), generator=gen).tolist() + [3]
        rows.append(row + [0] * (T - n))
        masks.append([1] * n + [0] * (T - n))
    ref = DistilBertForSequenceClassification(CFG, len(labels)).double()
    ref.load_state_dict({k: v.to(torch.float32).double() for k, v in model.state_dict().items()})
    ref.eval()
    with torch.no_grad():
        logits = ref(torch.tensor(rows), torch.tensor(masks))
    with open(os.path.join(out, "golden.json"), "w") as f:
        json.dump({"ids": rows, "attention_mask": masks, "logits": logits.tolist(), "labels": labels}, f)
        f.write("\n")


if __name__ == "__main__":
    main()
