"""Characters → integer ids, and a list of texts → one padded tensor, done once per split."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch

PAD, UNK = 0, 1  # id 0 pads sequences; id 1 stands for any character never seen in training


@dataclass(frozen=True)
class Vocab:
    chars: tuple[str, ...]  # the character with id i + 2

    @classmethod
    def from_texts(cls, texts: list[str]) -> Vocab:
        """Example: ['ab', 'ba'] -> Vocab(chars=('a', 'b')); sizes: 'a' -> 2, 'b' -> 3, 'z' -> UNK."""
        return cls(tuple(sorted(set("".join(texts)))))

    @property
    def size(self) -> int:
        return len(self.chars) + 2

    def encode(self, texts: list[str]) -> tuple[torch.Tensor, torch.Tensor]:
        """Texts -> (tokens (N, longest) padded with PAD, lengths (N,)).

        Example with chars ('a', 'b'): ['ab', 'b', 'z'] -> [[2, 3], [3, 0], [1, 0]], [2, 1, 1].
        """
        import torch  # here, not at the top: reading a `data:` section needs no torch

        index = {c: i + 2 for i, c in enumerate(self.chars)}
        width = max(map(len, texts), default=0)
        rows = [[index.get(c, UNK) for c in text] + [PAD] * (width - len(text)) for text in texts]
        tokens = torch.tensor(rows, dtype=torch.long).reshape(len(texts), width)
        return tokens, torch.tensor([len(text) for text in texts], dtype=torch.long)
