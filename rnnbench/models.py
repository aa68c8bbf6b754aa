"""Recurrent classifiers: embedding (or one-hot) → stacked, optionally bidirectional RNN/GRU/LSTM → linear head.

Constructors take flat arguments; `build_classifier` is the one place a config becomes those arguments, and
the arguments are what a run directory stores so `predict` can rebuild the model without the experiment file.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence

from rnnbench.data.vocab import PAD

RECURRENT_LAYERS = {"rnn": nn.RNN, "gru": nn.GRU, "lstm": nn.LSTM}


class RecurrentClassifier(nn.Module):
    def __init__(
        self,
        vocab_size: int,
        num_classes: int,
        cell: str,
        hidden_size: int,
        num_layers: int = 1,
        bidirectional: bool = False,
        embedding_dim: int | None = None,
        dropout: float = 0.0,
    ):
        super().__init__()
        self.vocab_size = vocab_size
        self.directions = 2 if bidirectional else 1
        # embedding_dim None means one-hot input: no embedding parameters, the RNN reads vocab_size features
        self.embedding = nn.Embedding(vocab_size, embedding_dim, padding_idx=PAD) if embedding_dim else None
        self.rnn = RECURRENT_LAYERS[cell](
            input_size=embedding_dim or vocab_size,
            hidden_size=hidden_size,
            num_layers=num_layers,
            bidirectional=bidirectional,
            dropout=dropout if num_layers > 1 else 0.0,  # torch applies it between stacked layers only
            batch_first=True,
        )
        self.dropout = nn.Dropout(dropout)  # ... so it is applied once more to the features the head reads
        self.head = nn.Linear(self.directions * hidden_size, num_classes)

    def forward(self, tokens, lengths, targets=None):
        # tokens (B, T) ids padded with PAD; lengths (B,) on the CPU; targets (B,) class ids or None
        if self.embedding is not None:
            x = self.embedding(tokens)  # (B, T, E)
        else:
            x = F.one_hot(tokens, self.vocab_size).to(self.head.weight.dtype)  # (B, T, V)
        # Packing makes each sequence stop at its last real character, so padding can never reach the state.
        packed = pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
        _, state = self.rnn(packed)  # (layers * directions, B, H), back in the batch's own order
        if isinstance(state, tuple):  # the LSTM's state is (h, c); the classifier reads h
            state = state[0]
        # The last layer's final states: forward after the last character, backward after the first.
        features = torch.cat(list(state[-self.directions :]), dim=-1)  # (B, directions * H)
        logits = self.head(self.dropout(features))  # (B, C)
        loss = F.cross_entropy(logits, targets) if targets is not None else None
        return logits, loss


def classifier_arguments(model_spec, vocab_size: int, num_classes: int) -> dict:
    """A model config plus the sizes the data decided -> the constructor's flat keyword arguments."""
    return {
        "vocab_size": vocab_size,
        "num_classes": num_classes,
        "cell": model_spec.cell,
        "hidden_size": model_spec.hidden_size,
        "num_layers": model_spec.num_layers,
        "bidirectional": model_spec.bidirectional,
        "embedding_dim": model_spec.embedding_dim,
        "dropout": model_spec.dropout,
    }
