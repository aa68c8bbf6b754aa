"""Scratch cells against torch's fused kernels: the largest difference, and the time per epoch.

    python benchmarks/scratch_vs_torch.py    # both parts; corpus from --data-dir / $RNNBENCH_DATA_DIR / cache
    python benchmarks/scratch_vs_torch.py --epochs 3 --hidden 128

Part 1 loads the same weights into both implementations of every cell × direction × 1–2 layers and prints
the largest absolute and relative difference of outputs, final states and gradients over a batch of mixed
lengths, in float64 and float32. Part 2 trains a GRU (embedding 32) on all 18 languages with
each implementation for a few epochs and prints the median seconds per epoch.
"""

from __future__ import annotations

import argparse
import statistics
from pathlib import Path

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from rnnbench.cells import ScratchRecurrent
from rnnbench.data import corpus, names
from rnnbench.models import RecurrentClassifier
from rnnbench.tasks import names as names_task
from rnnbench.train import fit


def largest_differences(dtype: torch.dtype) -> tuple[float, float]:
    """(max absolute, max relative) difference over every cell, direction and depth."""
    worst_abs = worst_rel = 0.0
    lengths = torch.tensor([9, 3, 7, 1, 5])
    for cell in ("rnn", "gru", "lstm"):
        for bidirectional in (False, True):
            for layers in (1, 2):
                torch.manual_seed(0)
                fused = getattr(nn, cell.upper())(6, 16, layers, batch_first=True, bidirectional=bidirectional).to(
                    dtype
                )
                scratch = ScratchRecurrent(cell, 6, 16, layers, bidirectional).to(dtype)
                scratch.load_state_dict(fused.state_dict())
                x = torch.randn(5, 9, 6, dtype=dtype, requires_grad=True)
                packed, fused_state = fused(pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False))
                fused_out = pad_packed_sequence(packed, batch_first=True, total_length=9)[0]
                scratch_out, scratch_state = scratch(x, lengths)

                def h(state, cell=cell):  # the LSTM's state is (h, c): compare h
                    return state[0] if cell == "lstm" else state

                pairs = [(scratch_out, fused_out), (h(scratch_state), h(fused_state))]
                grads = [
                    torch.autograd.grad(out.sum() + h(state).pow(2).sum(), [x, *module.parameters()])
                    for out, state, module in ((fused_out, fused_state, fused), (scratch_out, scratch_state, scratch))
                ]
                pairs += list(zip(grads[1], grads[0]))
                for mine, reference in pairs:
                    difference = (mine - reference).abs().max().item()
                    worst_abs = max(worst_abs, difference)
                    worst_rel = max(worst_rel, difference / max(reference.abs().max().item(), 1e-12))
    return worst_abs, worst_rel


def seconds_per_epoch(impl: str, data, hidden: int, epochs: int) -> float:
    torch.manual_seed(0)
    model = RecurrentClassifier(
        data.encoder.size, len(data.splits.labels), "gru", hidden_size=hidden, embedding_dim=32, impl=impl
    )
    result = fit(
        model,
        data.tensors["train"],
        data.tensors["validation"],
        learning_rate=3e-3,
        batch_size=64,
        max_epochs=epochs,
        patience=0,
        grad_clip=1.0,
        weight_decay=0.0,
        generator=torch.Generator().manual_seed(0),
    )
    return statistics.median(row["seconds"] for row in result.history)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--hidden", type=int, default=128)
    args = parser.parse_args()

    for dtype in (torch.float64, torch.float32):
        worst_abs, worst_rel = largest_differences(dtype)
        print(
            f"{str(dtype).removeprefix('torch.')}: largest difference scratch vs torch (outputs, states, gradients; "
            f"rnn/gru/lstm × uni/bi × 1-2 layers): absolute {worst_abs:.1e}, relative {worst_rel:.1e}"
        )

    data = names_task.prepare(
        names_task.Data(),
        names.read_corpus(corpus.locate(args.data_dir), list(corpus.LANGUAGES)),
        0,
        torch.device("cpu"),
    )
    timings = {impl: seconds_per_epoch(impl, data, args.hidden, args.epochs) for impl in ("torch", "scratch")}
    print(
        f"GRU-{args.hidden}, 18 languages ({len(data.tensors['train'])} training names, batch 64), "
        f"{torch.get_num_threads()} threads, median of {args.epochs} epochs: "
        f"torch {timings['torch']:.2f} s/epoch, scratch {timings['scratch']:.2f} s/epoch "
        f"({timings['scratch'] / timings['torch']:.1f}× slower)"
    )


if __name__ == "__main__":
    main()
