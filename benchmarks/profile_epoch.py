"""Where one training epoch's time goes, and what two levers that were not kept would buy.

    python benchmarks/profile_epoch.py            # names_18's GRU-128, one thread, about a minute

1. torch.profiler over one epoch of rnnbench's fit() (shuffled batches, the default): the operators that take
   the most time.
2. One epoch of a plain loop with batches sorted by length (bucketing) but still packed, against shuffled
   batches: what sorting alone buys, without reading the one-length batches unpacked.
3. Adam's step per batch with the default (for-loop), `foreach` and `fused` implementations, and whether they
   round alike (a lever is kept only if runs stay bit-identical).
"""

from __future__ import annotations

import time

import torch
from speed import names_18_gru  # benchmarks/speed.py, beside this file
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence

from rnnbench.train import fit


def main() -> None:
    torch.set_num_threads(1)
    spec, task, prepared = names_18_gru()
    train, validation = prepared.tensors["train"], prepared.tensors["validation"]
    print(f"torch {torch.__version__}, 1 thread; names_18 GRU-128, {len(train):,} training names, batch 64\n")

    torch.manual_seed(0)
    architecture, arguments = task.build(spec.model, spec.data, prepared.sizes)
    model = task.MODELS[architecture](**arguments)
    with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU]) as profile:
        fit(
            model,
            train,
            validation,
            learning_rate=3e-3,
            batch_size=64,
            max_epochs=1,
            patience=0,
            grad_clip=1.0,
            weight_decay=0.0,
            generator=torch.Generator().manual_seed(0),
            score=task.validator(prepared),
        )
    print("1. one epoch of fit(), operators by their own CPU time:")
    print(profile.key_averages().table(sort_by="self_cpu_time_total", row_limit=12))

    print("2. a plain loop (embedding -> packed GRU -> linear), one epoch each, packed either way:")
    for label, sort in (("shuffled batches", False), ("batches sorted by length", True)):
        seconds = plain_epoch(train, sort)
        print(f"  {label}: {seconds:.2f} s")

    print("\n3. Adam's step (after clipping) per batch, GRU-128 on a batch of 64 names of 7 characters:")
    steps = {
        name: adam_steps(**options)
        for name, options in (("for-loop (default)", {}), ("foreach", {"foreach": True}), ("fused", {"fused": True}))
    }
    reference = steps["for-loop (default)"][1]
    for name, (milliseconds, weights) in steps.items():
        same = all(torch.equal(a, b) for a, b in zip(weights, reference))
        print(
            f"  {name}: {milliseconds:.2f} ms; weights after 50 steps {'identical to' if same else 'differ from'} "
            "the default's"
        )


def plain_epoch(train, sort: bool) -> float:
    torch.manual_seed(0)
    classes = int(train.targets.max()) + 1
    embedding = nn.Embedding(int(train.tokens.max()) + 1, 32, padding_idx=0)
    gru, head = nn.GRU(32, 128, batch_first=True), nn.Linear(128, classes)
    parameters = [*embedding.parameters(), *gru.parameters(), *head.parameters()]
    optimizer = torch.optim.Adam(parameters, lr=3e-3)
    generator = torch.Generator().manual_seed(0)
    order = torch.randperm(len(train), generator=generator)
    if sort:
        order = order[train.lengths[order].sort(stable=True).indices]
    batches = list(order.split(64))
    if sort:
        batches = [batches[i] for i in torch.randperm(len(batches), generator=generator).tolist()]
    start = time.perf_counter()
    for batch in batches:
        lengths = train.lengths[batch]
        tokens = train.tokens[batch, : int(lengths.max())]
        _, state = gru(pack_padded_sequence(embedding(tokens), lengths, batch_first=True, enforce_sorted=False))
        loss = nn.functional.cross_entropy(head(state[-1]), train.targets[batch])
        optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(parameters, 1.0)
        optimizer.step()
    return time.perf_counter() - start


def adam_steps(**options) -> tuple[float, list[torch.Tensor]]:
    torch.manual_seed(0)
    embedding, gru, head = nn.Embedding(60, 32, padding_idx=0), nn.GRU(32, 128, batch_first=True), nn.Linear(128, 18)
    parameters = [*embedding.parameters(), *gru.parameters(), *head.parameters()]
    optimizer = torch.optim.Adam(parameters, lr=3e-3, **options)
    tokens, targets = torch.randint(1, 60, (64, 7)), torch.randint(0, 18, (64,))
    seconds = 0.0
    for _ in range(50):
        loss = nn.functional.cross_entropy(head(gru(embedding(tokens))[1][-1]), targets)
        optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(parameters, 1.0)
        start = time.perf_counter()
        optimizer.step()
        seconds += time.perf_counter() - start
    return 1000 * seconds / 50, [p.detach().clone() for p in parameters]


if __name__ == "__main__":
    main()
