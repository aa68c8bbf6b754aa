"""A split held as tensors on the training device, and its batches, built without per-example Python work."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the tensors come from the caller: this module imports torch only to draw batches
    import torch


@dataclass(frozen=True)
class TensorSplit:
    tokens: torch.Tensor  # (N, T) token ids, padded, or (N, T, F) values (series windows); on the training device
    lengths: torch.Tensor  # (N,) real lengths; kept on the CPU, where sequence packing wants them
    targets: torch.Tensor  # (N,) class ids, (N, T) ids per step, or (N, H) values ahead; on the training device

    def __len__(self) -> int:
        return len(self.lengths)

    @property
    def longest(self) -> int:
        """The longest example's length (0 for an empty split): what `predict` compares a new input with."""
        return int(self.lengths.max()) if len(self) else 0

    def to(self, device: torch.device) -> TensorSplit:
        return TensorSplit(self.tokens.to(device), self.lengths.cpu(), self.targets.to(device))

    def head(self, n: int) -> TensorSplit:
        """The first n examples."""
        return TensorSplit(self.tokens[:n], self.lengths[:n], self.targets[:n])

    def take(self, order: torch.Tensor) -> TensorSplit:
        """The examples at the (CPU) indices `order`, in that order."""
        return TensorSplit(
            self.tokens[order.to(self.tokens.device)], self.lengths[order], self.targets[order.to(self.targets.device)]
        )

    def batches(
        self, batch_size: int, generator: torch.Generator | None = None, by_length: bool = False
    ) -> Iterator[TensorSplit]:
        """Consecutive batches, in a random order when a generator is given, each trimmed to its longest item.

        by_length (bucketing, with a generator): the shuffled examples are sorted by length (a stable sort, so
        examples of one length stay shuffled) and cut into batches, which are then drawn in a random order. Most
        batches hold one length (those where lengths meet, several), so they pad, and inside
        models.unpacked_batches_of_one_length() pack, nothing; there are as many batches as without.

        The permutation is applied once per epoch, so every batch is a slice: no per-batch index copies, and
        the trim reads the CPU lengths, so no host-device synchronisation either.
        """
        import torch

        starts = list(range(0, len(self), batch_size))
        split = self
        if generator is not None:
            order = torch.randperm(len(self), generator=generator)
            if by_length:
                order = order[self.lengths[order].sort(stable=True).indices]
                starts = [starts[i] for i in torch.randperm(len(starts), generator=generator).tolist()]
            split = self.take(order)
        tokens, lengths, targets = split.tokens, split.lengths, split.targets
        for start in starts:
            batch_lengths = lengths[start : start + batch_size]
            width = int(batch_lengths.max())
            batch_targets = targets[start : start + batch_size]
            if batch_targets.dim() == 2 and tokens.dim() == 2:  # one target per step (reversal): trimmed alike
                batch_targets = batch_targets[:, :width]
            yield TensorSplit(tokens[start : start + batch_size, :width], batch_lengths, batch_targets)
