"""How a model's weights start: torch's own, Keras', or the schemes the long-memory literature uses, applied to
every recurrent layer of a model, fused (nn.RNN / GRU / LSTM) or scratch (cells.py): both name their parameters
weight_ih_l{k}, weight_hh_l{k}, bias_ih_l{k}, bias_hh_l{k} (suffix _reverse), gates stacked in torch's order
(LSTM: i, f, g, o; GRU: r, z, n).

    init: torch        torch's U(-1/√H, 1/√H) for every tensor: nothing changed
          keras        glorot-uniform input weights, one orthogonal (H, G·H) recurrent kernel, zero biases, LSTM
                       forget-gate bias 1 (Keras' defaults); linear layers glorot-uniform with zero bias
          orthogonal   each gate's recurrent block an orthogonal H×H matrix (Saxe, McClelland & Ganguli, ICLR 2014)
          identity     RNN only: the recurrent weights the identity and the biases zero (IRNN, with activation relu:
                       Le, Jaitly & Hinton, "A Simple Way to Initialize Recurrent Networks of Rectified Linear
                       Units", 2015)
    forget_bias b      LSTM: the forget gate's bias b (b_ih = b, b_hh = 0 on the f block), so a fresh cell keeps
                       its memory (Gers, Schmidhuber & Cummins 2000; Jozefowicz, Zaremba & Sutskever, ICML 2015)
    chrono T_max       LSTM: b_f = log u with u ~ U[1, T_max - 1], b_i = -b_f, recurrent biases of both zero: forget
                       times spread up to T_max steps (Tallec & Ollivier, "Can recurrent neural networks warp
                       time?", ICLR 2018)

Draws use torch's global generator, which the runner seeds before it builds a model.
"""

from __future__ import annotations

import torch
from torch import nn

from rnnbench.cells import ScratchRecurrent

SCHEMES = ("torch", "keras", "orthogonal", "identity")


@torch.no_grad()
def initialise(model: nn.Module, init: str = "torch", forget_bias: float | None = None, chrono: int | None = None):
    """Set the starting weights of `model`'s recurrent (and, for keras, linear) layers in place, as the module
    docstring says. Raises ValueError for a scheme not in SCHEMES, or identity on a gated cell."""
    if init not in SCHEMES:
        raise ValueError(f"init {init!r}: one of {', '.join(SCHEMES)}")
    for layer in model.modules():  # one pass in module order: keras draws in the order it always did
        if isinstance(layer, nn.Linear) and init == "keras":
            nn.init.xavier_uniform_(layer.weight)
            if layer.bias is not None:
                nn.init.zeros_(layer.bias)
        if not isinstance(layer, (nn.RNNBase, ScratchRecurrent)):
            continue
        hidden = layer.hidden_size
        for name, parameter in layer.named_parameters():
            gates = parameter.shape[0] // hidden
            if init == "keras":
                _keras(name, parameter, hidden)
            elif init == "orthogonal" and name.startswith("weight_hh"):
                for gate in range(gates):
                    nn.init.orthogonal_(parameter[gate * hidden : (gate + 1) * hidden])
            elif init == "identity":
                if gates != 1:
                    raise ValueError("init identity: for the rnn cell (IRNN) only")
                if name.startswith("weight_hh"):
                    parameter.copy_(torch.eye(hidden))
                elif name.startswith("bias"):
                    nn.init.zeros_(parameter)
            if name.startswith("bias") and gates == 4 and (forget_bias is not None or chrono is not None):
                _lstm_gate_biases(name, parameter, hidden, forget_bias, chrono)


def recurrent_layers(model: nn.Module) -> list[nn.Module]:
    """Every stack of recurrent layers in `model`, fused or scratch, in module order."""
    return [module for module in model.modules() if isinstance(module, (nn.RNNBase, ScratchRecurrent))]


def _keras(name: str, parameter, hidden: int) -> None:
    if name.startswith("weight_ih"):  # (G·H, I): the same fan-in and fan-out as Keras' (I, G·H) kernel
        nn.init.xavier_uniform_(parameter)
    elif name.startswith("weight_hh"):
        recurrent_kernel = nn.init.orthogonal_(torch.empty(hidden, parameter.shape[0]))  # Keras' (H, G·H)
        parameter.copy_(recurrent_kernel.T)
    else:
        nn.init.zeros_(parameter)
        if name.startswith("bias_ih") and parameter.shape[0] == 4 * hidden:  # LSTM gates i, f, g, o
            parameter[hidden : 2 * hidden] = 1.0


def _lstm_gate_biases(name: str, parameter, hidden: int, forget_bias: float | None, chrono: int | None) -> None:
    """The input and forget gates' biases of one LSTM layer: b_ih carries them, b_hh is zero there."""
    input_gate, forget_gate = slice(0, hidden), slice(hidden, 2 * hidden)
    if name.startswith("bias_hh"):
        parameter[forget_gate] = 0.0
        if chrono is not None:
            parameter[input_gate] = 0.0
        return
    if chrono is not None:
        parameter[forget_gate] = torch.log(torch.empty(hidden).uniform_(1.0, chrono - 1.0))
        parameter[input_gate] = -parameter[forget_gate]
    else:
        parameter[forget_gate] = forget_bias
