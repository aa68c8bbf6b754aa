"""Names classifiers: a recurrent one, and two baselines to read its scores against.

    RecurrentClassifier  characters → embedding (or one-hot) → stacked RNN / GRU / LSTM / LinearRNN → head
    LinearClassifier     the one-hot name padded to a fixed length, flattened → an MLP (the tutorial's baseline)
    MajorityClassifier   no inputs read: the training split's class frequencies (argmax: the majority class)

Constructors take flat arguments; `architectures.model_arguments` is the one place a config becomes them, and the
arguments are what a run directory stores, so `predict` rebuilds any model with `build(architecture, arguments)`.
"""

from __future__ import annotations

import contextlib
import contextvars

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from rnnbench.cells import ScratchRecurrent, hidden_state, map_state
from rnnbench.data.vocab import PAD
from rnnbench.initialisation import initialise

FUSED = {"rnn": nn.RNN, "gru": nn.GRU, "lstm": nn.LSTM}


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
        impl: str = "torch",
        bias: str = "double",
        activation: str = "tanh",
        head: str = "last",
        head_hidden: int | None = None,
        max_length: int | None = None,
        softmax_output: bool = False,
        carry_state: bool = False,
        init: str = "torch",
        forget_bias: float | None = None,
        chrono: int | None = None,
        regression: bool = False,
    ):
        super().__init__()
        self.vocab_size, self.reads, self.max_length = vocab_size, head, max_length
        self.regression = regression  # one number per text (num_classes 1), mean squared error
        self.carry_state, self.carried = carry_state, None  # the quirk: the last batch's final state, detached
        self.directions = 2 if bidirectional else 1
        self.softmax_output = softmax_output
        # embedding_dim None means one-hot input: no embedding parameters, the RNN reads vocab_size features
        self.embedding = nn.Embedding(vocab_size, embedding_dim, padding_idx=PAD) if embedding_dim else None
        self.rnn = recurrent_layer(
            cell,
            embedding_dim or vocab_size,
            hidden_size,
            num_layers,
            bidirectional,
            dropout,
            impl=impl,
            bias=bias,
            activation=activation,
        )
        self.dropout = nn.Dropout(dropout)  # on the features the head reads
        features = self.directions * hidden_size * (max_length if head == "flatten" else 1)
        self.head = _mlp(features, num_classes, head_hidden)
        initialise(self, init, forget_bias, chrono)

    def forward(self, tokens, lengths, targets=None):
        # tokens (B, T) ids padded with PAD; lengths (B,) on the CPU; targets (B,) class ids or None
        if self.reads == "flatten":  # the tutorial's fixed length: every step is read, padding included
            tokens = _fixed_length(tokens, self.max_length)
            lengths = torch.full_like(lengths, self.max_length)
        x = self.embedding(tokens) if self.embedding is not None else one_hot(tokens, self.vocab_size, self.head)
        outputs, last = self._recur(x, lengths)  # (B, T, directions * H), (B, directions * H)
        match self.reads:
            case "last":  # forward state after the last real character, backward state after the first
                features = last
            case "mean":
                real = _mask(lengths, outputs)  # (B, T, 1)
                features = (outputs * real).sum(1) / lengths.to(outputs.device)[:, None]
            case "max":
                features = outputs.masked_fill(~_mask(lengths, outputs), float("-inf")).amax(1)
            case "flatten":
                features = outputs.flatten(1)  # (B, max_length * directions * H)
        logits = self.head(self.dropout(features))  # (B, C), or (B, 1) values for a regressor
        if self.softmax_output:
            logits = logits.softmax(dim=-1)  # the quirk: cross_entropy below applies softmax a second time
        if targets is None:
            return logits, None
        loss = F.mse_loss(logits.squeeze(-1), targets) if self.regression else F.cross_entropy(logits, targets)
        return logits, loss

    def _recur(self, x, lengths):
        """All outputs (zero at padded steps) and the last layer's final states, both directions concatenated."""
        outputs, state = run_recurrent(
            self.rnn, x, lengths, self._carried(x.shape[0]), outputs=self.reads != "last", pack=self.reads == "flatten"
        )
        if self.carry_state and self.training:
            self.carried = map_state(torch.Tensor.detach, state)
        return outputs, torch.cat(list(hidden_state(state)[-self.directions :]), dim=-1)

    def _carried(self, batch_size: int):
        """The state to start from: under the carry_state quirk and while training, the previous training batch's
        final one; otherwise zeros (None). A batch of another size (the last, partial one) starts from zeros, and
        scoring and prediction always do, so an answer never depends on what the model saw before."""
        if not (self.carry_state and self.training) or self.carried is None:
            return None
        return self.carried if hidden_state(self.carried).shape[1] == batch_size else None


def recurrent_layer(
    cell: str,
    input_size: int,
    hidden_size: int,
    num_layers: int = 1,
    bidirectional: bool = False,
    dropout: float = 0.0,
    *,
    impl: str = "torch",
    bias: str = "double",
    activation: str = "tanh",
) -> nn.Module:
    """Stacked recurrent layers: torch's fused nn.RNN/GRU/LSTM, or the scratch cells (same parameter names)."""
    between_layers = dropout if num_layers > 1 else 0.0  # dropout acts between stacked layers only
    if impl == "torch":
        options = {"nonlinearity": activation} if cell == "rnn" else {}
        return FUSED[cell](
            input_size,
            hidden_size,
            num_layers,
            batch_first=True,
            bidirectional=bidirectional,
            dropout=between_layers,
            **options,
        )
    return ScratchRecurrent(
        cell, input_size, hidden_size, num_layers, bidirectional, between_layers, bias=bias, activation=activation
    )


# Whether run_recurrent reads a batch whose sequences all fill it without packing: on while fit() trains with
# bucketed batches (train.batching: bucketed), where most batches are so; off otherwise, so that every other run
# packs exactly as earlier versions did and repeats them bit for bit (packed and unpacked kernels round alike
# going forward, but not in the backward pass, nor for the LSTM, which oneDNN runs unpacked on a CPU).
_UNPACKED = contextvars.ContextVar("unpacked_batches_of_one_length", default=False)


@contextlib.contextmanager
def unpacked_batches_of_one_length(on: bool = True):
    """Within this block, run_recurrent reads a batch of one length as it is, without packing."""
    token = _UNPACKED.set(on)
    try:
        yield
    finally:
        _UNPACKED.reset(token)


def run_recurrent(rnn: nn.Module, x, lengths, initial=None, outputs: bool = True, pack: bool = False):
    """Run `rnn` over a padded batch (B, T, I) with real `lengths` (CPU): (outputs (B, T, directions * H), zero
    at padded steps, or None when not asked for; final state in torch's layout, a pair (h, c) for the LSTM).

    Inside unpacked_batches_of_one_length() (bucketed training), a batch whose sequences all fill its T steps is
    read as it is, without packing: the same answer up to float rounding, in about two thirds of the time on a
    CPU. `pack` packs it all the same (the quirks that read padding as input: their runs stay as they were)."""
    if isinstance(rnn, ScratchRecurrent):
        return rnn(x, lengths, initial)
    if _UNPACKED.get() and not pack and int(lengths.min()) == x.shape[1]:  # CPU lengths: no device sync
        output, state = rnn(x, initial)
        return (output if outputs else None), state
    # packing makes each sequence stop at its last real character
    packed, state = rnn(pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False), initial)
    if not outputs:
        return None, state
    return pad_packed_sequence(packed, batch_first=True, total_length=x.shape[1])[0], state


class LinearClassifier(nn.Module):
    """The one-hot name, padded or cut to `max_length`, flattened → num_layers linear layers with ReLU between."""

    def __init__(
        self,
        vocab_size: int,
        num_classes: int,
        max_length: int,
        hidden_size: int,
        num_layers: int = 1,
        dropout: float = 0.0,
        softmax_output: bool = False,
        init: str = "torch",
        forget_bias: float | None = None,
        chrono: int | None = None,
    ):
        super().__init__()
        self.vocab_size, self.max_length, self.softmax_output = vocab_size, max_length, softmax_output
        widths = [max_length * vocab_size] + [hidden_size] * (num_layers - 1) + [num_classes]
        layers = []
        for i, (width_in, width_out) in enumerate(zip(widths, widths[1:])):
            layers += [nn.Linear(width_in, width_out)] + (
                [nn.ReLU(), nn.Dropout(dropout)] if i < num_layers - 1 else []
            )
        self.layers = nn.Sequential(*layers)
        initialise(self, init, forget_bias, chrono)

    def forward(self, tokens, lengths, targets=None):
        x = one_hot(_fixed_length(tokens, self.max_length), self.vocab_size, self.layers[0])  # (B, L, V)
        logits = self.layers(x.flatten(1))  # (B, C)
        if self.softmax_output:
            logits = logits.softmax(dim=-1)
        return logits, F.cross_entropy(logits, targets) if targets is not None else None


class MajorityClassifier(nn.Module):
    """Reads nothing: answers every name with the training split's class frequencies (no parameters to train)."""

    def __init__(self, class_frequencies: list[float]):
        super().__init__()
        self.register_buffer("log_prior", torch.tensor(class_frequencies, dtype=torch.float32).log(), persistent=False)
        self.softmax_output = False

    def forward(self, tokens, lengths, targets=None):
        logits = self.log_prior.expand(tokens.shape[0], -1)  # (B, C)
        return logits, F.cross_entropy(logits, targets) if targets is not None else None


ARCHITECTURES = {
    "RecurrentClassifier": RecurrentClassifier,
    "LinearClassifier": LinearClassifier,
    "MajorityClassifier": MajorityClassifier,
}


def build(architecture: str, arguments: dict) -> nn.Module:
    return ARCHITECTURES[architecture](**arguments)


@torch.no_grad()
def probabilities(model: nn.Module, tokens, lengths) -> torch.Tensor:
    """(B, C) class probabilities; a model that already ends in softmax (the tutorial quirk) is taken as is."""
    outputs = model(tokens, lengths)[0]
    return outputs if model.softmax_output else outputs.softmax(dim=-1)


def one_hot(tokens, vocab_size: int, like: nn.Module):
    """(B, T) ids -> (B, T, V) one-hot rows in the model's dtype; PAD is the zero vector, as in the tutorial."""
    rows = F.one_hot(tokens, vocab_size).to(next(like.parameters()).dtype)
    rows[..., PAD] = 0
    return rows


def _mlp(features: int, num_classes: int, hidden: int | None) -> nn.Module:
    if hidden is None:
        return nn.Linear(features, num_classes)
    return nn.Sequential(nn.Linear(features, hidden), nn.ReLU(), nn.Linear(hidden, num_classes))


def _fixed_length(tokens, length: int):
    """Pad with PAD or cut each row to exactly `length` ids. Example (length 3): [[5, 6], ...] -> [[5, 6, 0], ...]."""
    return F.pad(tokens, (0, length - tokens.shape[1]), value=PAD) if tokens.shape[1] < length else tokens[:, :length]


def _mask(lengths, outputs):
    """(B, T, 1) booleans: True at each sequence's real steps."""
    steps = torch.arange(outputs.shape[1], device=outputs.device)
    return (steps[None, :] < lengths.to(outputs.device)[:, None])[..., None]
