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

__all__ = ["TextCNN"]


class TextCNN(nn.Module):
    """tapeml's ``textcnn`` model (models/textcnn).

    ids [N, maxlen] → Embedding(num_words, embed_dim) → [N, maxlen, embed_dim]
    → permute → Conv1d(filters, kernel) → ReLU → [N, filters, maxlen−kernel+1]
    → max_pool1d(pool) → [N, filters, P] → flatten → Linear(filters·P → 1)
    → logits [N, 1], with P = (maxlen−kernel+1) // pool.

    The embedding has no padding_idx (as Keras' Embedding without mask_zero):
    id 0 is an ordinary row that is trained like the others. The loss is
    BCEWithLogitsLoss on the logits.

    state_dict: embedding.weight [num_words, embed_dim],
    conv.weight [filters, embed_dim, kernel], conv.bias [filters],
    fc.weight [1, filters·P], fc.bias [1].
    """

    def __init__(self, num_words=10000, embed_dim=64, filters=64, kernel=5, pool=5, maxlen=100):
        super().__init__()
        if maxlen - kernel + 1 < pool:
            raise ValueError(f"maxlen {maxlen} is too short for kernel {kernel} and pool {pool}")
        self.pool = pool
        self.maxlen = maxlen
        self.embedding = nn.Embedding(num_words, embed_dim)
        self.conv = nn.Conv1d(embed_dim, filters, kernel)
        self.fc = nn.Linear(filters * ((maxlen - kernel + 1) // pool), 1)

    def forward(self, ids):
        """ids: int64 [N, maxlen] → logits [N, 1]."""
        x = self.embedding(ids).permute(0, 2, 1)  # [N, E, L]
        x = F.relu(self.conv(x))
        x = F.max_pool1d(x, self.pool)  # stride = pool, floor mode
        return self.fc(torch.flatten(x, 1))
