"""Forecasters: a window of a series in, the next `horizon` values of its target out.

    RecurrentForecaster  window (B, L, F) → stacked RNN / GRU / LSTM / LinearRNN (fused or scratch) → forecast
                         direct:    ŷ_{1..H} = W · h_L + b              (one linear head over the last state)
                         recursive: ŷ_1 = w · h_L + b; then ŷ_k is fed back as the next input x_{L+k},
                                    h_{L+k} = cell(x_{L+k}, h_{L+k-1}), ŷ_{k+1} = w · h_{L+k} + b
    BaselineForecaster   no parameters, nothing to train: it lets a benchmark forecast run as a variant; the
                         series task scores benchmarks from the whole history (metrics.baseline_forecast), so it
                         has no loss in the scaled window space the networks train in, and records none

The recurrent forecaster is trained on the mean squared error of the whole horizon, in the scaled space. Windows have
one length, so nothing is packed. Constructors take flat arguments, stored in the run directory.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from rnnbench.cells import ScratchRecurrent, hidden_state
from rnnbench.initialisation import initialise
from rnnbench.models import recurrent_layer


class RecurrentForecaster(nn.Module):
    def __init__(
        self,
        features: int,
        horizon: int,
        cell: str,
        hidden_size: int,
        num_layers: int = 1,
        bidirectional: bool = False,
        dropout: float = 0.0,
        impl: str = "torch",
        bias: str = "double",
        activation: str = "tanh",
        init: str = "torch",
        forget_bias: float | None = None,
        chrono: int | None = None,
        strategy: str = "direct",
    ):
        super().__init__()
        self.horizon, self.strategy = horizon, strategy
        self.directions = 2 if bidirectional else 1
        self.rnn = recurrent_layer(
            cell, features, hidden_size, num_layers, bidirectional, dropout, impl=impl, bias=bias, activation=activation
        )
        self.dropout = nn.Dropout(dropout)
        # direct: all H values from the last state; recursive: one value per step, fed back
        self.head = nn.Linear(self.directions * hidden_size, horizon if strategy == "direct" else 1)
        initialise(self, init, forget_bias, chrono)

    def forward(self, window, lengths, targets=None):
        # window (B, L, F) float, the target in feature 0; lengths (B,) all L; targets (B, H) or None
        outputs, state = self._recur(window, None)
        if self.strategy == "direct":
            forecast = self.head(self.dropout(self._last(state)))  # (B, H)
        else:
            steps = [self.head(self.dropout(self._last(state)))]  # (B, 1) each
            for _ in range(self.horizon - 1):
                outputs, state = self._recur(steps[-1][:, None, :], state)  # the forecast read as the next input
                steps.append(self.head(self.dropout(self._last(state))))
            forecast = torch.cat(steps, dim=1)  # (B, H)
        if targets is None:
            return forecast, None
        return forecast, F.mse_loss(forecast, targets)

    def _recur(self, x, state):
        """(outputs, final state) of the recurrent layers over x (B, T, F), starting from `state` (None: zeros)."""
        if isinstance(self.rnn, ScratchRecurrent):
            return self.rnn(x, torch.full((x.shape[0],), x.shape[1]), state)
        return self.rnn(x, state)

    def _last(self, state):
        """The last layer's final hidden state, both directions concatenated: (B, directions · H)."""
        return torch.cat(list(hidden_state(state)[-self.directions :]), dim=-1)


class BaselineForecaster(nn.Module):
    """A benchmark forecast as a variant (no parameters, nothing to train). Its forecasts are made from the whole
    history before each origin, in the series' units (forecasting.forecasts); forward only repeats the window's
    last scaled value, and answers no loss: that repetition's error would be recorded under every benchmark's
    name, so a benchmark's history.csv records none (train.scored_once)."""

    def __init__(self, kind: str, horizon: int):
        super().__init__()
        self.kind, self.horizon = kind, horizon

    def forward(self, window, lengths, targets=None):
        return window[:, -1, :1].expand(-1, self.horizon), None  # (B, H), and no loss


ARCHITECTURES = {"RecurrentForecaster": RecurrentForecaster, "BaselineForecaster": BaselineForecaster}
