"""Reference PyTorch modules for tapeml's models.

Each class here is the PyTorch twin of one tapeml model: its state_dict has
the same names, shapes and order as the tapeml parameter store, and its
forward pass computes the same function, so weights move between the two
unchanged (tapeml checkpoints load with ``model.load_state_dict``) and the
golden-file scripts in this directory can check tapeml against PyTorch.

Only the architecture lives here; initialization, losses and training are
the business of the script that uses a module. Nothing in tapeml imports
this file at run time.
"""
import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["TextCNN", "KimTextCNN", "FastText", "ConvNet", "RNN", "MF", "from_config", "bigram_bucket"]


class TextCNN(nn.Module):
    """tapeml's ``textcnn`` model with ``arch`` "seed" (models/textcnn), the Keras model.

    ids [N, maxlen] → Embedding(num_words, embed_dim) → [N, maxlen, embed_dim]
    → permute → Conv1d(filters, kernel) → ReLU → [N, filters, maxlen−kernel+1]
    → max_pool1d(pool) → [N, filters, P] → flatten → Linear(filters·P → 1 or classes)
    → logits [N, 1] (two classes) or [N, classes], with P = (maxlen−kernel+1) // pool.

    The embedding has no padding_idx (as Keras' Embedding without mask_zero):
    id 0 is an ordinary row that is trained like the others. The loss is
    BCEWithLogitsLoss on the logits (CrossEntropyLoss for more classes).

    state_dict: embedding.weight [num_words, embed_dim],
    conv.weight [filters, embed_dim, kernel], conv.bias [filters],
    fc.weight [W, filters·P], fc.bias [W], W = 1 or classes.
    """

    def __init__(self, num_words=10000, embed_dim=64, filters=64, kernel=5, pool=5, maxlen=100, classes=2):
        super().__init__()
        if maxlen - kernel + 1 < pool:
            raise ValueError(f"maxlen {maxlen} is too short for kernel {kernel} and pool {pool}")
        self.pool = pool
        self.maxlen = maxlen
        self.embedding = nn.Embedding(num_words, embed_dim)
        self.conv = nn.Conv1d(embed_dim, filters, kernel)
        self.fc = nn.Linear(filters * ((maxlen - kernel + 1) // pool), head_width(classes))

    def forward(self, ids):
        """ids: int64 [N, maxlen] → logits [N, 1 or classes]."""
        x = self.embedding(ids).permute(0, 2, 1)  # [N, E, L]
        x = F.relu(self.conv(x))
        x = F.max_pool1d(x, self.pool)  # stride = pool, floor mode
        return self.fc(torch.flatten(x, 1))


def head_width(classes):
    """A text model's logits per text: 1 (sigmoid) for two classes, else one per class."""
    return 1 if classes <= 2 else classes


class KimTextCNN(nn.Module):
    """tapeml's ``textcnn`` model with ``arch`` "kim" (models/textcnn), the default: Kim (2014).

    ids [N, maxlen] → Embedding(num_words, embed_dim, padding_idx=0) → permute → [N, E, L]
    → per width k: Conv1d(E → filters, k, padding=k−1) → [N, filters, L+k−1]
      → the maximum over the positions whose window (tokens t−k+1 … t) holds a
        token that is not padding (−∞ elsewhere) → ReLU → [N, filters]
        (zero for a text of padding only)
    → cat → [norm "layer": LayerNorm(filters·len(widths), eps 1e-5)]
    → Dropout(dropout) → fc: Linear(filters·len(widths) → 1 or classes).

    state_dict: embedding.weight, convs.{i}.weight [filters, embed_dim, widths[i]],
    convs.{i}.bias [filters], [norm.weight, norm.bias,] fc.weight, fc.bias.
    """

    def __init__(self, num_words=20000, embed_dim=128, filters=100, widths=(3, 4, 5), dropout=0.5, classes=2, norm=None):
        super().__init__()
        self.widths = list(widths)
        self.embedding = nn.Embedding(num_words, embed_dim, padding_idx=0)
        self.convs = nn.ModuleList(nn.Conv1d(embed_dim, filters, k, padding=k - 1) for k in self.widths)
        self.norm = nn.LayerNorm(filters * len(self.widths), eps=1e-5) if norm == "layer" else None
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(filters * len(self.widths), head_width(classes))

    def forward(self, ids):
        """ids: int64 [N, maxlen] → logits [N, 1 or classes]."""
        x = self.embedding(ids).permute(0, 2, 1)  # [N, E, L]
        tokens = (ids != 0).to(x.dtype).unsqueeze(1)  # [N, 1, L]
        feats = []
        for k, conv in zip(self.widths, self.convs):
            c = conv(x)  # [N, F, L+k−1]
            valid = F.conv1d(tokens, tokens.new_ones(1, 1, k), padding=k - 1) > 0  # [N, 1, L+k−1]
            c = c.masked_fill(~valid, float("-inf"))
            feats.append(F.relu(c.max(dim=2).values))
        x = torch.cat(feats, 1)
        if self.norm is not None:
            x = self.norm(x)
        return self.fc(self.dropout(x))


BIGRAM_MULTIPLIER = 116049371


def bigram_bucket(a, b, buckets):
    """graph.BigramBucket: the hash bucket of the word-id pair (a, b)."""
    return (a * BIGRAM_MULTIPLIER + b) % buckets


class FastText(nn.Module):
    """tapeml's ``fasttext`` model (models/fasttext), after Joulin et al. (2016).

    ids [N, maxlen] (0 = padding, anywhere) → per position t: embedding(ids[t])
    + embedding(num_words + bigram_bucket(ids[t], ids[t+1])) when both are tokens
    (Embedding(num_words + buckets, embed_dim, padding_idx=0))
    → the sum over the token positions ÷ (tokens + bigrams), 0 for a text of padding only
    → fc: Linear(embed_dim → 1 or classes).

    state_dict: embedding.weight [num_words + buckets, embed_dim], fc.weight, fc.bias.
    """

    def __init__(self, num_words=50000, buckets=200000, embed_dim=50, classes=2):
        super().__init__()
        self.num_words, self.buckets = num_words, buckets
        self.embedding = nn.Embedding(num_words + buckets, embed_dim, padding_idx=0)
        self.fc = nn.Linear(embed_dim, head_width(classes))

    def forward(self, ids):
        """ids: int64 [N, maxlen] → logits [N, 1 or classes]."""
        token = ids != 0
        x = self.embedding(ids)
        items = token.sum(1)
        if self.buckets > 0 and ids.shape[1] > 1:
            a, b = ids[:, :-1], ids[:, 1:]
            pair = token[:, :-1] & token[:, 1:]
            rows = torch.where(pair, self.num_words + bigram_bucket(a, b, self.buckets), torch.zeros_like(a))
            x = x + F.pad(self.embedding(rows), (0, 0, 0, 1))
            items = items + pair.sum(1)
        x = x * token.unsqueeze(2).to(x.dtype)
        mean = x.sum(1) / items.clamp(min=1).unsqueeze(1).to(x.dtype)
        return self.fc(mean)


class ConvNet(nn.Module):
    """tapeml's ``convnet`` model (models/convnet), the reference image classifier.

    images [N, channels, height, width]
    → layer1: Conv2d(channels → 64, 3×3, padding 1) → BatchNorm2d(64) → ReLU → MaxPool2d(2)
    → layer2: Conv2d(64 → 128, 3×3, padding 1) → BatchNorm2d(128) → ReLU → MaxPool2d(2)
    → flatten → fc: Linear(128·(height//4)·(width//4) → 1024) → ReLU → Dropout
    → Linear(1024 → 512) → ReLU → Dropout → Linear(512 → classes) → logits [N, classes],

    trained with CrossEntropyLoss. 3×32×32 input gives the reference's
    8192-wide first Linear; 1×28×28 gives 6272. Pooling is floor mode.

    state_dict, in order: layer1.0.weight [64, channels, 3, 3], layer1.0.bias,
    layer1.1.{weight, bias, running_mean, running_var, num_batches_tracked},
    the same for layer2.0 / layer2.1, then fc.0, fc.3, fc.6 {weight, bias}.
    """

    def __init__(self, channels=3, height=32, width=32, classes=10, dropout=0.5):
        super().__init__()
        if height < 4 or width < 4:
            raise ValueError(f"input {height}×{width} is too small for two 2×2 poolings")
        self.layer1 = nn.Sequential(
            nn.Conv2d(channels, 64, 3, padding=1), nn.BatchNorm2d(64), nn.ReLU(), nn.MaxPool2d(2))
        self.layer2 = nn.Sequential(
            nn.Conv2d(64, 128, 3, padding=1), nn.BatchNorm2d(128), nn.ReLU(), nn.MaxPool2d(2))
        self.fc = nn.Sequential(
            nn.Linear(128 * (height // 4) * (width // 4), 1024), nn.ReLU(), nn.Dropout(dropout),
            nn.Linear(1024, 512), nn.ReLU(), nn.Dropout(dropout),
            nn.Linear(512, classes))

    def forward(self, x):
        """x: float [N, channels, height, width] → logits [N, classes]."""
        return self.fc(torch.flatten(self.layer2(self.layer1(x)), 1))


class RNN(nn.Module):
    """tapeml's ``lstm`` model (models/lstm), the reference sentiment classifier.

    ids [N, maxlen] (id 0 = padding, before or after the text, Keras' 'pre' by default)
    → embedding: Embedding(num_words, embed_dim, padding_idx=0) → Dropout
    → rnn: LSTM(embed_dim → hidden, layers, bidirectional, dropout between layers)
      over each text's real tokens, packed (pack_sequence)
    → the top layer's last hidden states, torch.cat((h_n[-2], h_n[-1]), dim=1)
      (h_n[-1] when not bidirectional) → Dropout → fc: Linear(D·hidden → 1 or classes)
    → logits [N, 1] (two classes) or [N, classes],

    trained with BCEWithLogitsLoss. A text with no real token gets zero final
    states (its logit is fc.bias), which pack_sequence alone cannot express.

    state_dict, in order: embedding.weight [num_words, embed_dim],
    rnn.weight_ih_l0 [4·hidden, embed_dim], rnn.weight_hh_l0 [4·hidden, hidden],
    rnn.bias_ih_l0, rnn.bias_hh_l0 [4·hidden], the same with suffix _reverse,
    then the same for l1, …, then fc.weight [1, D·hidden], fc.bias [1].
    """

    def __init__(self, num_words=25000, embed_dim=100, hidden=256, layers=2, bidirectional=True, dropout=0.5, classes=2):
        super().__init__()
        self.embedding = nn.Embedding(num_words, embed_dim, padding_idx=0)
        self.rnn = nn.LSTM(embed_dim, hidden, num_layers=layers, bidirectional=bidirectional,
                           dropout=dropout if layers > 1 else 0.0, batch_first=True)
        self.directions = 2 if bidirectional else 1
        self.fc = nn.Linear(self.directions * hidden, head_width(classes))
        self.dropout = nn.Dropout(dropout)

    def forward(self, ids):
        """ids: int64 [N, maxlen] → logits [N, 1]."""
        real = ids != 0
        x = self.dropout(self.embedding(ids))
        hidden = x.new_zeros(ids.shape[0], self.directions * self.rnn.hidden_size)
        rows = real.any(1).nonzero().flatten()
        if len(rows):
            packed = nn.utils.rnn.pack_sequence([x[i][real[i]] for i in rows.tolist()], enforce_sorted=False)
            _, (h, _) = self.rnn(packed)
            top = torch.cat([h[-d] for d in range(self.directions, 0, -1)], dim=1)
            hidden = hidden.index_copy(0, rows, top)
        return self.fc(self.dropout(hidden))


class MF(nn.Module):
    """tapeml's ``recsys`` model with algo ``mf`` (models/recsys), biased matrix factorization.

    user, item int64 [N] (dense indices from the checkpoint's id maps)
    → global_bias + user_bias(user) + item_bias(item) + Σ user_factors(user)·item_factors(item)
    → clamped to [scale_min, scale_max] → predicted ratings [N].

    state_dict (PyTorch lists global_bias first; names are what matter): user_factors.weight [users, factors],
    item_factors.weight [items, factors], user_bias.weight [users, 1],
    item_bias.weight [items, 1], global_bias [1].
    """

    def __init__(self, users, items, factors=64, scale_min=0.5, scale_max=5.0):
        super().__init__()
        self.user_factors = nn.Embedding(users, factors)
        self.item_factors = nn.Embedding(items, factors)
        self.user_bias = nn.Embedding(users, 1)
        self.item_bias = nn.Embedding(items, 1)
        self.global_bias = nn.Parameter(torch.zeros(1))
        self.scale = (scale_min, scale_max)

    def forward(self, user, item):
        """user, item: int64 [N] → ratings [N]."""
        dot = (self.user_factors(user) * self.item_factors(item)).sum(1)
        raw = self.global_bias + self.user_bias(user).squeeze(1) + self.item_bias(item).squeeze(1) + dot
        return raw.clamp(*self.scale)


def from_config(kind, model_config):
    """The module for a tapeml model kind and its model_config (a dict, as in
    a checkpoint's meta.json or an export's ``tapeml.model_config`` metadata)."""
    if kind == "recsys":
        if model_config.get("algo") != "mf":
            raise ValueError(f"recsys algo {model_config.get('algo')!r} has no PyTorch module (only mf)")
        c = model_config["mf"]
        return MF(c["users"], c["items"], c["factors"], c["scale"]["min"], c["scale"]["max"])
    c = model_config["model"]
    classes = c.get("classes", 2)
    if kind == "textcnn" and c.get("arch", "seed") == "kim":
        return KimTextCNN(c["num_words"], c["embed_dim"], c["filters"], c["widths"], c.get("dropout", 0.0), classes)
    if kind == "textcnn":
        return TextCNN(c["num_words"], c["embed_dim"], c["filters"], c["kernel"], c["pool"], c["maxlen"], classes)
    if kind == "lstm":
        return RNN(c["num_words"], c["embed_dim"], c["hidden"], c["layers"], c["bidirectional"], c["dropout"], classes)
    if kind == "fasttext":
        return FastText(c["num_words"], c["buckets"], c["embed_dim"], classes)
    if kind == "convnet":
        return ConvNet(c["channels"], c["height"], c["width"], c["classes"], c["dropout"])
    raise ValueError(f"unknown tapeml model kind {kind!r}")
