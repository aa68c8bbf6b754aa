"""Recurrent cells written from their equations, and a stack that runs them over padded batches.

With the same weights, `ScratchRecurrent` computes what torch's fused nn.RNN / nn.GRU / nn.LSTM compute (the
tests check outputs and gradients in float64), and its parameters carry torch's names (weight_ih_l0,
bias_hh_l1_reverse, ...), so one state dict fits both. It also offers what the fused kernels do not: one bias
per gate (the Keras convention), relu in the LSTM, and the tutorial's "LinearRNN" cell.

Shapes: B batch, T steps, I input features, H hidden units, G gates (rnn 1, gru 3, lstm 4, linear_rnn 1).
"""

from __future__ import annotations

import math
from functools import partial
from operator import itemgetter

import torch
from torch import nn

GATES = {"rnn": 1, "gru": 3, "lstm": 4, "linear_rnn": 1}
ACTIVATIONS = {"tanh": torch.tanh, "relu": torch.relu}


# ----------------------------------------------------------------------------------------------- the cells
# Each takes one step: the input's projection for this step, the previous state and the recurrent weights.
# The input projection W_i x_t + b_i is computed for all steps at once by the layer (it does not depend on
# the state), so the loop only does the part that must be sequential.


def rnn_cell(xw, hprev, w_hh, b_hh, activation):
    # Elman: h_t = g(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh)
    return activation(xw + hprev @ w_hh.T + b_hh)  # (B, H)


def linear_rnn_cell(xw, hprev, w_hh, b_hh, activation):
    # the tutorial's LinearRNN: h_t = tanh(W_h h_{t-1} + b_h) + tanh(W_x x_t + b_x)
    return activation(hprev @ w_hh.T + b_hh) + activation(xw)  # (B, H)


def gru_cell(xw, hprev, w_hh, b_hh, activation):
    xr, xz, xn = xw.chunk(3, dim=-1)  # W_i{r,z,n} x_t + b_i{r,z,n}, each (B, H)
    hr, hz, hn = (hprev @ w_hh.T + b_hh).chunk(3, dim=-1)  # W_h{r,z,n} h_{t-1} + b_h{r,z,n}
    r = torch.sigmoid(xr + hr)  # reset gate
    z = torch.sigmoid(xz + hz)  # update gate
    n = activation(xn + r * hn)  # candidate: n_t = tanh(W_in x_t + b_in + r_t ⊙ (W_hn h_{t-1} + b_hn))
    return (1 - z) * n + z * hprev  # h_t = (1 − z_t) ⊙ n_t + z_t ⊙ h_{t-1}


def lstm_cell(xw, state, w_hh, b_hh, activation):
    hprev, cprev = state  # the LSTM's state is a pair: see "the LSTM's extra state" below
    i, f, g, o = (xw + hprev @ w_hh.T + b_hh).chunk(4, dim=-1)  # torch's gate order, each (B, H)
    i, f, o = torch.sigmoid(i), torch.sigmoid(f), torch.sigmoid(o)  # input, forget, output gates
    c = f * cprev + i * activation(g)  # c_t = f_t ⊙ c_{t-1} + i_t ⊙ g(W_ig x_t + W_hg h_{t-1} + b_g)
    h = o * activation(c)  # h_t = o_t ⊙ g(c_t)
    return h, c


CELLS = {"rnn": rnn_cell, "linear_rnn": linear_rnn_cell, "gru": gru_cell, "lstm": lstm_cell}


# ------------------------------------------------------------------------------------- the LSTM's extra state
# Every cell carries a hidden state h; the LSTM also carries its cell state c, so its state is the pair (h, c),
# here as in torch's nn.LSTM (h and c each (layers * directions, B, H) there, (B, H) inside one cell). These
# three functions are the one place that knows it: the rest of the code starts a state with zero_state, reads
# its h with hidden_state, and transforms it whole (h, and c too for the LSTM) with map_state.


def zero_state(cell: str, zeros):
    """The state a `cell` starts from: `zeros` for h, and for the LSTM the same zeros for c: (h, c)."""
    return (zeros, zeros) if cell == "lstm" else zeros


def hidden_state(state):
    """h, what the layer above and the heads read: the state itself, or the first of the LSTM's (h, c)."""
    return state[0] if isinstance(state, tuple) else state


def map_state(function, *states):
    """`function` applied to the hidden states of `states` (several states: matching parts together), and to their
    cell states too for the LSTM. Example: map_state(torch.Tensor.detach, (h, c)) -> (h.detach(), c.detach())."""
    if isinstance(states[0], tuple):
        return tuple(function(*parts) for parts in zip(*states))
    return function(*states)


# ---------------------------------------------------------------------------------------------- the stack


class ScratchRecurrent(nn.Module):
    """Stacked, optionally bidirectional recurrent layers over a padded batch (B, T, I) with real lengths.

    bias: "double" keeps torch's two bias vectors per gate (b_ih and b_hh); "single" keeps only b_ih, one
    vector per gate as in Keras. For the GRU that means n_t = tanh(W_in x_t + b_in + r_t ⊙ (W_hn h_{t-1})):
    torch's gate layout without the recurrent bias, not Keras' reset_after=False form. activation: tanh, or relu
    (for the LSTM this replaces both of its tanh's, as Keras' `activation='relu'` does; for the RNN it is torch's
    nonlinearity='relu').
    """

    def __init__(
        self,
        cell: str,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bidirectional: bool = False,
        dropout: float = 0.0,
        bias: str = "double",
        activation: str = "tanh",
    ):
        super().__init__()
        self.cell, self.hidden_size, self.num_layers = cell, hidden_size, num_layers
        self.directions = 2 if bidirectional else 1
        self.activation = ACTIVATIONS[activation]
        self.dropout = nn.Dropout(dropout)  # between layers, as torch does
        gates_h = GATES[cell] * hidden_size
        for layer in range(num_layers):
            layer_input = input_size if layer == 0 else self.directions * hidden_size
            for suffix in ("", "_reverse")[: self.directions]:
                name = f"l{layer}{suffix}"
                self.register_parameter(f"weight_ih_{name}", nn.Parameter(torch.empty(gates_h, layer_input)))
                self.register_parameter(f"weight_hh_{name}", nn.Parameter(torch.empty(gates_h, hidden_size)))
                self.register_parameter(f"bias_ih_{name}", nn.Parameter(torch.empty(gates_h)))
                if bias == "double":
                    self.register_parameter(f"bias_hh_{name}", nn.Parameter(torch.empty(gates_h)))
        self.reset_parameters()

    def reset_parameters(self):
        bound = 1 / math.sqrt(self.hidden_size)  # torch's own initialisation: U(-1/√H, 1/√H) for every tensor
        for parameter in self.parameters():
            nn.init.uniform_(parameter, -bound, bound)

    def forward(self, x, lengths, initial=None):
        # x (B, T, I) padded; lengths (B,) real lengths; initial: a starting state in the layout returned, or None
        # returns outputs (B, T, directions * H), zero at padded steps, and the final state
        # (layers * directions, B, H) — for the LSTM a pair (h, c) — in torch's layout
        mask = torch.arange(x.shape[1], device=x.device)[None, :] < lengths.to(x.device)[:, None]  # (B, T)
        finals = []  # each layer and direction's final state, in torch's order
        for layer in range(self.num_layers):
            if layer > 0:
                x = self.dropout(x)
            outputs = []
            for suffix in ("", "_reverse")[: self.directions]:
                name = f"l{layer}{suffix}"
                # The backward direction reads each sequence reversed within its own length, so it starts at
                # the last real character and ends at the first; padding stays at the end for both.
                sequence = _reverse_within_length(x, lengths) if suffix else x
                k = len(finals)  # this layer and direction's index in torch's state layout
                start = None if initial is None else map_state(itemgetter(k), initial)  # (B, H) each
                out, final = self._run(sequence, mask, name, start)
                outputs.append(_reverse_within_length(out, lengths) if suffix else out)
                finals.append(final)
            x = torch.cat(outputs, dim=-1)  # (B, T, directions * H)
        return x, map_state(lambda *parts: torch.stack(parts), *finals)  # (layers * directions, B, H) each

    def _run(self, x, mask, name, start=None):
        """One direction of one layer: (B, T, I) -> (outputs (B, T, H), final state (B, H), (h, c) for the LSTM).
        start: the state to begin from, as returned; zeros when None."""
        w_ih, w_hh = getattr(self, f"weight_ih_{name}"), getattr(self, f"weight_hh_{name}")
        b_ih = getattr(self, f"bias_ih_{name}")
        b_hh = getattr(self, f"bias_hh_{name}", None)
        b_hh = b_hh if b_hh is not None else torch.zeros_like(b_ih)
        xw = x @ w_ih.T + b_ih  # (B, T, G*H): the input's share of every gate, for all steps at once
        cell = CELLS[self.cell]
        state = zero_state(self.cell, x.new_zeros(x.shape[0], self.hidden_size)) if start is None else start
        outputs = []
        for t in range(x.shape[1]):
            real = mask[:, t, None]  # (B, 1): a padded step leaves the state as it was
            stepped = cell(xw[:, t], state, w_hh, b_hh, self.activation)
            state = map_state(partial(torch.where, real), stepped, state)  # where(real, new, old)
            h = hidden_state(state)  # (B, H)
            outputs.append(torch.where(real, h, torch.zeros_like(h)))
        return torch.stack(outputs, dim=1), state


def _reverse_within_length(x, lengths):
    """Reverse each sequence's first `length` steps, leaving padding in place. Example: [a b c _] -> [c b a _]."""
    steps = torch.arange(x.shape[1], device=x.device)[None, :]  # (1, T)
    lengths = lengths.to(x.device)[:, None]  # (B, 1)
    index = torch.where(steps < lengths, lengths - 1 - steps, steps)  # (B, T)
    return x.gather(1, index[:, :, None].expand_as(x))
