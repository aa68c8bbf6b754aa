"""Models for the reversal task: a tagger (one output per input step) and an encoder-decoder with optional attention.

Token ids follow data/reversal.py: 0 pads, 1..symbols, EOS = symbols + 1, BOS = symbols + 2.

    Tagger          tokens → embedding → recurrent layers → a linear layer per step → the reversed token there
    EncoderDecoder  tokens → encoder; its final state (both directions bridged to one) starts a decoder that
                    reads BOS y_1 … y_L (teacher forcing) and emits y_1 … y_L EOS; at evaluation it decodes
                    greedily until EOS. With attention, each decoder output also reads a weighted sum of the
                    encoder outputs (dot-product or additive scores, padding masked); location attention adds
                    to the additive score features of the previous step's weights, so that it can learn to
                    move along the input (Chorowski et al., 2015), the inductive bias longer inputs need.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from rnnbench.data.reversal import PAD, bos, eos
from rnnbench.models import recurrent_layer, run_recurrent


class Tagger(nn.Module):
    def __init__(self, symbols: int, cell: str, hidden_size: int, num_layers: int = 1, bidirectional: bool = False,
                 embedding_dim: int = 16, dropout: float = 0.0, impl: str = "torch", bias: str = "double",
                 activation: str = "tanh"):  # fmt: skip
        super().__init__()
        self.embedding = nn.Embedding(symbols + 3, embedding_dim, padding_idx=PAD)
        self.rnn = recurrent_layer(cell, embedding_dim, hidden_size, num_layers, bidirectional, dropout, impl=impl,
                                   bias=bias, activation=activation)  # fmt: skip
        self.dropout = nn.Dropout(dropout)
        self.out = nn.Linear((2 if bidirectional else 1) * hidden_size, symbols + 3)

    def forward(self, tokens, lengths, targets=None):
        # tokens (B, T); lengths (B,) on the CPU; targets (B, T) the reversed tokens, padded, or None
        outputs, _ = run_recurrent(self.rnn, self.embedding(tokens), lengths)  # (B, T, directions * H)
        logits = self.out(self.dropout(outputs))  # (B, T, C)
        loss = None if targets is None else F.cross_entropy(logits.flatten(0, 1), targets.flatten(), ignore_index=PAD)
        return logits, loss

    @torch.no_grad()
    def predict(self, tokens, lengths, max_steps: int | None = None):
        """(B, T) predicted ids, PAD after each sequence's length: a tagger answers one id per input step."""
        predictions = self(tokens, lengths)[0].argmax(dim=-1)
        real = torch.arange(tokens.shape[1], device=tokens.device)[None, :] < lengths.to(tokens.device)[:, None]
        return predictions.masked_fill(~real, PAD)


class EncoderDecoder(nn.Module):
    def __init__(self, symbols: int, cell: str, hidden_size: int, num_layers: int = 1, bidirectional: bool = False,
                 embedding_dim: int = 16, dropout: float = 0.0, impl: str = "torch", bias: str = "double",
                 activation: str = "tanh", attention: str = "none"):  # fmt: skip
        super().__init__()
        self.symbols, self.cell, self.attention = symbols, cell, attention
        self.num_layers, self.directions = num_layers, 2 if bidirectional else 1
        self.embedding = nn.Embedding(symbols + 3, embedding_dim, padding_idx=PAD)  # shared by both sides
        layer = dict(impl=impl, bias=bias, activation=activation)
        self.encoder = recurrent_layer(cell, embedding_dim, hidden_size, num_layers, bidirectional, dropout, **layer)
        self.decoder = recurrent_layer(cell, embedding_dim, hidden_size, num_layers, False, dropout, **layer)
        # a bidirectional encoder's two final states per layer become the decoder's one: h0 = tanh(W [h_fwd; h_bwd])
        self.bridge = nn.Linear(2 * hidden_size, hidden_size) if bidirectional else None
        memory = self.directions * hidden_size
        if attention != "none":
            self.keys = nn.Linear(memory, hidden_size, bias=False)  # encoder outputs, in the decoder's space
            if attention in ("additive", "location"):  # score(q, k) = v · tanh(W_k k + W_q q [+ U f])
                self.queries = nn.Linear(hidden_size, hidden_size, bias=False)
                self.score = nn.Linear(hidden_size, 1, bias=False)
            if attention == "location":  # f: features of the previous step's weights around each position
                self.conv = nn.Conv1d(1, LOCATION_CHANNELS, kernel_size=3, padding=1, bias=False)
                self.location = nn.Linear(LOCATION_CHANNELS, hidden_size, bias=False)
        self.dropout = nn.Dropout(dropout)
        self.out = nn.Linear(hidden_size * (2 if attention != "none" else 1), symbols + 3)

    def forward(self, tokens, lengths, targets=None):
        """Teacher forcing: logits (B, T + 1, C) for y_1 … y_L EOS, and the loss if `targets` (B, T) are given."""
        memory, state, mask = self._encode(tokens, lengths)
        if targets is None:
            targets = torch.zeros_like(tokens)
        decoder_input, decoder_target = self._teacher(targets, lengths)  # (B, T + 1) each
        outputs, _ = run_recurrent(self.decoder, self.embedding(decoder_input), lengths + 1, state)
        logits, _ = self._emit(outputs, memory, mask)  # (B, T + 1, C)
        loss = F.cross_entropy(logits.flatten(0, 1), decoder_target.flatten(), ignore_index=PAD)
        return logits, loss

    @torch.no_grad()
    def predict(self, tokens, lengths, max_steps: int):
        """Greedy decoding: (B, max_steps) ids, each sequence cut at its first EOS (EOS and after become PAD)."""
        memory, state, mask = self._encode(tokens, lengths)
        batch = tokens.shape[0]
        previous = torch.full((batch, 1), bos(self.symbols), dtype=torch.long, device=tokens.device)
        one_step = torch.ones(batch, dtype=torch.long)
        steps, weights = [], None
        for _ in range(max_steps):
            output, state = run_recurrent(self.decoder, self.embedding(previous), one_step, state)
            logits, weights = self._emit(output, memory, mask, weights)
            previous = logits.argmax(dim=-1)  # (B, 1)
            steps.append(previous)
        predictions = torch.cat(steps, dim=1)  # (B, max_steps)
        ended = (predictions == eos(self.symbols)).cumsum(dim=1) > 0
        return predictions.masked_fill(ended, PAD)

    def _encode(self, tokens, lengths):
        """(memory (B, S, directions * H), the decoder's initial state, mask (B, S) of real encoder steps)."""
        memory, state = run_recurrent(self.encoder, self.embedding(tokens), lengths)
        state = tuple(map(self._bridge, state)) if isinstance(state, tuple) else self._bridge(state)
        mask = torch.arange(tokens.shape[1], device=tokens.device)[None, :] < lengths.to(tokens.device)[:, None]
        return memory, state, mask

    def _bridge(self, state):
        # (layers * directions, B, H) -> (layers, B, H)
        if self.bridge is None:
            return state
        forward, backward = state.view(self.num_layers, 2, *state.shape[1:]).unbind(dim=1)
        return torch.tanh(self.bridge(torch.cat([forward, backward], dim=-1))).contiguous()

    def _teacher(self, targets, lengths):
        """Decoder input BOS y_1 … y_L and target y_1 … y_L EOS, both (B, T + 1), padded with PAD."""
        batch = targets.shape[0]
        start = torch.full((batch, 1), bos(self.symbols), dtype=targets.dtype, device=targets.device)
        decoder_input = torch.cat([start, targets], dim=1)
        decoder_target = torch.cat([targets, torch.zeros_like(start)], dim=1)
        decoder_target[torch.arange(batch), lengths.to(targets.device)] = eos(self.symbols)
        return decoder_input, decoder_target

    def _emit(self, outputs, memory, mask, weights=None):
        """Decoder outputs (B, T, H) -> (logits (B, T, C), the last step's attention weights (B, S) or None).

        `weights` are the attention weights of the step before the first of `outputs` (location attention
        reads them; None at the start). Dot and additive scores need no history, so all steps go at once;
        location scores depend on the previous step's weights, so they go step by step.
        """
        if self.attention == "none":
            return self.out(self.dropout(outputs)), None
        keys = self.keys(memory)  # (B, S, H)
        if self.attention == "dot":
            weights = self._normalise(outputs @ keys.transpose(1, 2), mask)  # (B, T, S)
        elif self.attention == "additive":
            weights = self._normalise(self._additive(keys, outputs), mask)
        else:
            previous = weights if weights is not None else keys.new_zeros(keys.shape[:2])
            steps = []
            for t in range(outputs.shape[1]):
                features = self.location(self.conv(previous[:, None, :]).transpose(1, 2))  # (B, S, H)
                previous = self._normalise(self._additive(keys, outputs[:, t : t + 1], features), mask)[:, 0]
                steps.append(previous)
            weights = torch.stack(steps, dim=1)  # (B, T, S)
        context = weights @ keys  # (B, T, H)
        return self.out(self.dropout(torch.cat([outputs, context], dim=-1))), weights[:, -1]

    def _additive(self, keys, queries, features=None):
        """v · tanh(W_k k_s + W_q q_t [+ U f_s]) for every step t and position s: (B, T, S)."""
        hidden = keys[:, None] + self.queries(queries)[:, :, None]  # (B, T, S, H)
        if features is not None:
            hidden = hidden + features[:, None]
        return self.score(torch.tanh(hidden)).squeeze(-1)

    @staticmethod
    def _normalise(scores, mask):
        """Softmax over the real encoder positions only."""
        return scores.masked_fill(~mask[:, None, :], float("-inf")).softmax(dim=-1)


LOCATION_CHANNELS = 8


ARCHITECTURES = {"Tagger": Tagger, "EncoderDecoder": EncoderDecoder}


def sequence_arguments(spec, symbols: int, kind: str) -> tuple[str, dict]:
    """A model config -> (architecture, the constructor's keyword arguments) for the reversal task."""
    arguments = {"symbols": symbols, "cell": spec.cell, "hidden_size": spec.hidden_size, "num_layers": spec.num_layers,
                 "bidirectional": spec.bidirectional, "embedding_dim": spec.embedding_dim or 16, "dropout": spec.dropout,
                 "impl": spec.impl, "bias": spec.bias, "activation": spec.activation}  # fmt: skip
    if kind == "tagger":
        return "Tagger", arguments
    return "EncoderDecoder", {**arguments, "attention": spec.attention}


@torch.no_grad()
def answer(model: nn.Module, tokens, lengths, max_steps: int) -> torch.Tensor:
    """Predicted ids (N, S), 0 after each answer, in eval mode."""
    was_training = model.training
    predictions = model.eval().predict(tokens, lengths, max_steps)
    model.train(was_training)
    return predictions
