"""Models for the reversal task: a tagger, the tutorial's repeat decoder, and an encoder-decoder with attention.

Token ids follow data/reversal.py on each side: 0 pads, 1..symbols, EOS = symbols + 1, BOS = symbols + 2. The source
(read) and the target (answered) each have their own symbols, letters in and phonemes out say: the input embedding
is sized by the source's, the output layer and the decoder's embedding by the target's. An encoder-decoder whose
task has one vocabulary on both sides (reversal) reads both through one shared embedding.

    Tagger          tokens → embedding → recurrent layers → a linear layer per step → the reversed token there
    RepeatDecoder   tokens → encoder; its final output, repeated at every step, is the input of a decoder that
                    starts from the encoder's final state → a linear layer per step (the Keras tutorial's
                    encoder-decoder: it answers exactly as many steps as it reads)
    EncoderDecoder  tokens → encoder; its final state (both directions bridged to one) starts a decoder that
                    reads BOS y_1 … y_L (teacher forcing) and emits y_1 … y_L EOS; at evaluation it decodes
                    greedily until EOS. With attention, each decoder output also reads a weighted sum of the
                    encoder outputs (dot-product or additive scores, padding masked); location attention adds
                    to the additive score features of the previous step's weights, so that it can learn to
                    move along the input (Chorowski et al., 2015), the inductive bias longer inputs need.
                    `sentinels` frames the encoder's input as BOS x_1 … x_L EOS, and location attention then
                    starts on the two sentinels; `readout: context` makes the output read the attended
                    context alone, so what is emitted depends on where the model looks, not on how many
                    steps it has taken.

Taggers and repeat decoders can take the tutorial's framing instead (`regression`): each digit is one float in
and one float out per step, sequences are padded with 0 to a fixed `length` that the model reads and is scored
on in full (padding included, as Keras without masking does), the loss is the mean squared error, and the
answer is each output rounded to the nearest symbol.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from rnnbench.architectures import LOCATION_CHANNELS
from rnnbench.cells import hidden_state, map_state
from rnnbench.data.reversal import PAD, bos, eos
from rnnbench.initialisation import initialise
from rnnbench.models import recurrent_layer, run_recurrent


class Tagger(nn.Module):
    def __init__(
        self,
        source_symbols: int,
        target_symbols: int,
        cell: str,
        hidden_size: int,
        num_layers: int = 1,
        bidirectional: bool = False,
        embedding_dim: int = 16,
        dropout: float = 0.0,
        impl: str = "torch",
        bias: str = "double",
        activation: str = "tanh",
        init: str = "torch",
        forget_bias: float | None = None,
        chrono: int | None = None,
        regression: bool = False,
        length: int | None = None,
    ):
        super().__init__()
        self.source_symbols, self.target_symbols = source_symbols, target_symbols
        self.regression, self.length = regression, length
        self.embedding = None if regression else nn.Embedding(source_symbols + 3, embedding_dim, padding_idx=PAD)
        layer = dict(impl=impl, bias=bias, activation=activation)
        self.rnn = recurrent_layer(
            cell, 1 if regression else embedding_dim, hidden_size, num_layers, bidirectional, dropout, **layer
        )
        self.dropout = nn.Dropout(dropout)
        self.out = nn.Linear((2 if bidirectional else 1) * hidden_size, 1 if regression else target_symbols + 3)
        initialise(self, init, forget_bias, chrono)

    def forward(self, tokens, lengths, targets=None):
        # tokens (B, T); lengths (B,) on the CPU; targets (B, T) the reversed tokens, padded, or None
        if self.regression:
            tokens, lengths, targets = read_in_full(tokens, lengths, targets, self.length)
        x = step_inputs(self.embedding, tokens)  # (B, T, E), or (B, T, 1) values
        outputs, _ = run_recurrent(self.rnn, x, lengths, pack=self.regression)  # (B, T, directions * H)
        outputs = self.out(self.dropout(outputs))  # (B, T, C) logits, or (B, T, 1) values
        return outputs, step_loss(outputs, targets, self.regression)

    @torch.no_grad()
    def predict(self, tokens, lengths, max_steps: int | None = None):
        """(B, T) predicted ids, PAD after each sequence's length: a tagger answers one id per input step."""
        return step_answers(self(tokens, lengths)[0], lengths, self.target_symbols, self.regression)


class RepeatDecoder(nn.Module):
    def __init__(
        self,
        source_symbols: int,
        target_symbols: int,
        cell: str,
        hidden_size: int,
        num_layers: int = 1,
        bidirectional: bool = False,
        embedding_dim: int = 16,
        dropout: float = 0.0,
        impl: str = "torch",
        bias: str = "double",
        activation: str = "tanh",
        init: str = "torch",
        forget_bias: float | None = None,
        chrono: int | None = None,
        regression: bool = False,
        length: int | None = None,
    ):
        super().__init__()
        self.source_symbols, self.target_symbols = source_symbols, target_symbols
        self.regression, self.length, self.num_layers = regression, length, num_layers
        self.embedding = None if regression else nn.Embedding(source_symbols + 3, embedding_dim, padding_idx=PAD)
        layer = dict(impl=impl, bias=bias, activation=activation)
        self.encoder = recurrent_layer(
            cell, 1 if regression else embedding_dim, hidden_size, num_layers, bidirectional, dropout, **layer
        )
        self.decoder = recurrent_layer(cell, hidden_size, hidden_size, num_layers, False, dropout, **layer)
        self.bridge = nn.Linear(2 * hidden_size, hidden_size) if bidirectional else None
        self.dropout = nn.Dropout(dropout)
        self.out = nn.Linear(hidden_size, 1 if regression else target_symbols + 3)
        initialise(self, init, forget_bias, chrono)

    def forward(self, tokens, lengths, targets=None):
        if self.regression:
            tokens, lengths, targets = read_in_full(tokens, lengths, targets, self.length)
        x = step_inputs(self.embedding, tokens)  # (B, T, E), or (B, T, 1) values
        _, state = run_recurrent(self.encoder, x, lengths, outputs=False, pack=self.regression)
        state = bridge_state(self.bridge, state, self.num_layers)  # (layers, B, H), a pair (h, c) for the LSTM
        repeated = hidden_state(state)[-1][:, None, :].expand(-1, tokens.shape[1], -1)  # (B, T, H): its final output
        outputs, _ = run_recurrent(self.decoder, repeated, lengths, state, pack=self.regression)  # (B, T, H)
        outputs = self.out(self.dropout(outputs))  # (B, T, C) logits, or (B, T, 1) values
        return outputs, step_loss(outputs, targets, self.regression)

    @torch.no_grad()
    def predict(self, tokens, lengths, max_steps: int | None = None):
        """(B, T) predicted ids, PAD after each sequence's length: one id per input step, like the tagger."""
        return step_answers(self(tokens, lengths)[0], lengths, self.target_symbols, self.regression)


def step_inputs(embedding: nn.Embedding | None, tokens):
    """(B, T) ids -> (B, T, E) embeddings, or (B, T, 1) with each id as a number (regression: the digit's value)."""
    return embedding(tokens) if embedding is not None else tokens[..., None].float()


def step_loss(outputs, targets, regression: bool):
    """Cross-entropy over the real steps; or, for regression, the squared error of every step, padding included."""
    if targets is None:
        return None
    if regression:
        return F.mse_loss(outputs.squeeze(-1), targets.float())
    return F.cross_entropy(outputs.flatten(0, 1), targets.flatten(), ignore_index=PAD)


def step_answers(outputs, lengths, symbols: int, regression: bool):
    """(B, T) ids answered per step (a value rounded to the nearest id), PAD after each sequence's length."""
    ids = outputs.squeeze(-1).round().clamp(0, symbols).long() if regression else outputs.argmax(dim=-1)
    real = torch.arange(ids.shape[1], device=ids.device)[None, :] < lengths.to(ids.device)[:, None]
    return ids.masked_fill(~real, PAD)


def read_in_full(tokens, lengths, targets, length: int):
    """The regression framing: pad to at least `length` with 0 and read every step, padding included, as Keras
    does without a Masking layer. Example (length 5): [[3, 7, 2]], [3] -> [[3, 7, 2, 0, 0]], [5]."""
    width = max(tokens.shape[1], length)
    tokens = F.pad(tokens, (0, width - tokens.shape[1]))
    targets = None if targets is None else F.pad(targets, (0, width - targets.shape[1]))
    return tokens, torch.full_like(lengths, width), targets


def bridge_state(bridge: nn.Linear | None, state, num_layers: int):
    """A bidirectional encoder's final states -> the unidirectional decoder's initial ones, per layer:
    h0 = tanh(W [h_fwd; h_bwd]) (and the same for the LSTM's c). (layers * 2, B, H) -> (layers, B, H)."""
    if bridge is None:
        return state

    def bridged(part):
        forward, backward = part.view(num_layers, 2, *part.shape[1:]).unbind(dim=1)  # (layers, B, H) each
        return torch.tanh(bridge(torch.cat([forward, backward], dim=-1))).contiguous()

    return map_state(bridged, state)


def frame(tokens, lengths, symbols: int):
    """BOS x_1 … x_L EOS, padded after. Example (symbols 9): [[3, 7], [5, 0]], [2, 1] -> [[11, 3, 7, 10],
    [11, 5, 10, 0]], [4, 3]."""
    framed = F.pad(tokens, (1, 1))  # (B, T + 2), x_s now at s + 1
    framed[:, 0] = bos(symbols)
    framed[torch.arange(tokens.shape[0], device=tokens.device), lengths.to(tokens.device) + 1] = eos(symbols)
    return framed, lengths + 2


class EncoderDecoder(nn.Module):
    def __init__(
        self,
        source_symbols: int,
        target_symbols: int,
        cell: str,
        hidden_size: int,
        num_layers: int = 1,
        bidirectional: bool = False,
        embedding_dim: int = 16,
        dropout: float = 0.0,
        impl: str = "torch",
        bias: str = "double",
        activation: str = "tanh",
        init: str = "torch",
        forget_bias: float | None = None,
        chrono: int | None = None,
        attention: str = "none",
        sentinels: bool = False,
        readout: str = "state_and_context",
        shared_embedding: bool = False,
    ):
        super().__init__()
        if shared_embedding and source_symbols != target_symbols:
            raise ValueError(f"one shared embedding needs one vocabulary: {source_symbols} != {target_symbols} symbols")
        self.source_symbols, self.target_symbols = source_symbols, target_symbols
        self.cell, self.attention, self.sentinels, self.readout = cell, attention, sentinels, readout
        self.num_layers, self.directions = num_layers, 2 if bidirectional else 1
        self.embedding = nn.Embedding(source_symbols + 3, embedding_dim, padding_idx=PAD)  # the source's
        # the target's; None where one vocabulary is read through `embedding` (its tensor saved once, not twice)
        self.target_embedding = None if shared_embedding else nn.Embedding(target_symbols + 3, embedding_dim, PAD)
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
        reads_state_and_context = attention != "none" and readout == "state_and_context"
        self.out = nn.Linear(hidden_size * (2 if reads_state_and_context else 1), target_symbols + 3)
        initialise(self, init, forget_bias, chrono)

    def forward(self, tokens, lengths, targets=None):
        """Teacher forcing: logits (B, T + 1, C) for y_1 … y_L EOS, and the loss if `targets` (B, T) are given."""
        memory, state, mask, weights = self._encode(tokens, lengths)
        if targets is None:
            targets = torch.zeros_like(tokens)
        decoder_input, decoder_target = self._teacher(targets, lengths)  # (B, T + 1) each
        outputs, _ = run_recurrent(self.decoder, self._embed_target(decoder_input), lengths + 1, state)
        logits, _ = self._emit(outputs, memory, mask, weights)  # (B, T + 1, C)
        loss = F.cross_entropy(logits.flatten(0, 1), decoder_target.flatten(), ignore_index=PAD)
        return logits, loss

    @torch.no_grad()
    def predict(self, tokens, lengths, max_steps: int):
        """Greedy decoding: (B, max_steps) ids, each sequence cut at its first EOS (EOS and after become PAD)."""
        memory, state, mask, weights = self._encode(tokens, lengths)
        batch = tokens.shape[0]
        previous = torch.full((batch, 1), bos(self.target_symbols), dtype=torch.long, device=tokens.device)
        one_step = torch.ones(batch, dtype=torch.long)
        steps = []
        for _ in range(max_steps):
            output, state = run_recurrent(self.decoder, self._embed_target(previous), one_step, state)
            logits, weights = self._emit(output, memory, mask, weights)
            previous = logits.argmax(dim=-1)  # (B, 1)
            steps.append(previous)
        predictions = torch.cat(steps, dim=1)  # (B, max_steps)
        ended = (predictions == eos(self.target_symbols)).cumsum(dim=1) > 0
        return predictions.masked_fill(ended, PAD)

    def _encode(self, tokens, lengths):
        """(memory (B, S, directions * H), the decoder's initial state, mask (B, S) of real encoder steps, the
        attention weights (B, S) location attention starts from, or None for zeros)."""
        if self.sentinels:
            tokens, lengths = frame(tokens, lengths, self.source_symbols)  # BOS x_1 … x_L EOS
        memory, state = run_recurrent(self.encoder, self.embedding(tokens), lengths)
        state = bridge_state(self.bridge, state, self.num_layers)
        mask = torch.arange(tokens.shape[1], device=tokens.device)[None, :] < lengths.to(tokens.device)[:, None]
        start = None
        if self.attention == "location" and self.sentinels:
            # Half on each sentinel: one step along the input from there reaches the first symbol at either end,
            # whatever the length, so "start at an end, move one step at a time" is learnable once for all lengths.
            start = torch.zeros(mask.shape, dtype=memory.dtype, device=memory.device)
            start[:, 0] = 0.5
            start[torch.arange(len(lengths), device=memory.device), lengths.to(memory.device) - 1] = 0.5
        return memory, state, mask, start

    def _teacher(self, targets, lengths):
        """Decoder input BOS y_1 … y_L and target y_1 … y_L EOS, both (B, T + 1), padded with PAD."""
        batch = targets.shape[0]
        start = torch.full((batch, 1), bos(self.target_symbols), dtype=targets.dtype, device=targets.device)
        decoder_input = torch.cat([start, targets], dim=1)
        decoder_target = torch.cat([targets, torch.zeros_like(start)], dim=1)
        decoder_target[torch.arange(batch), lengths.to(targets.device)] = eos(self.target_symbols)
        return decoder_input, decoder_target

    def _embed_target(self, tokens):
        """(B, T) target ids -> (B, T, E): the target's own embedding, or the shared one."""
        return (self.embedding if self.target_embedding is None else self.target_embedding)(tokens)

    def _emit(self, outputs, memory, mask, weights=None):
        """Decoder outputs (B, T, H) -> (logits (B, T, C), the last step's attention weights (B, S) or None).

        `weights` are the attention weights of the step before the first of `outputs` (location attention
        reads them; None stands for zeros). Dot and additive scores need no history, so all steps go at once;
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
        features = context if self.readout == "context" else torch.cat([outputs, context], dim=-1)
        return self.out(self.dropout(features)), weights[:, -1]

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


ARCHITECTURES = {"Tagger": Tagger, "RepeatDecoder": RepeatDecoder, "EncoderDecoder": EncoderDecoder}


@torch.no_grad()
def answer(model: nn.Module, tokens, lengths, max_steps: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(predicted ids (N, S), 0 after each answer; the answer as numbers: a regression model's raw outputs
    (N, S'), padding steps included, else the ids), in eval mode."""
    was_training = model.training
    model.eval()
    if getattr(model, "regression", False):  # one pass gives both: the raw values, and the ids they round to
        outputs = model(tokens, lengths)[0]  # (N, max(T, length), 1)
        predictions, values = step_answers(outputs, lengths, model.target_symbols, True), outputs.squeeze(-1)
    else:
        predictions = model.predict(tokens, lengths, max_steps)
        values = predictions.float()
    model.train(was_training)
    return predictions, values
