"""Closed-form parameter counts (architectures.counts) against the tensors torch builds: every variant of every
shipped experiment, and every option of every architecture. `params` and parameter budgets count with the closed
forms alone (no model is built), so these tests are what keep them honest."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
import torch
from conftest import REPO
from test_cli import invoke

from rnnbench import architectures, config, forecasters, metrics, models, sequence_models
from rnnbench.config import distinct_data, task_of
from rnnbench.runner import load_source

EXPERIMENTS = sorted(REPO.glob("experiments/*.yaml")) + sorted(REPO.glob("experiments/seeds/*.yaml"))
CLASSES = {**models.ARCHITECTURES, **sequence_models.ARCHITECTURES, **forecasters.ARCHITECTURES}


def counted(architecture: str, arguments: dict) -> dict[str, int]:
    """The model's tensors by role, built on the meta device (shapes only)."""
    with torch.device("meta"):
        model = CLASSES[architecture](**arguments)
    return metrics.parameter_breakdown(model)


@pytest.fixture(scope="module")
def names_csv(tmp_path_factory, names_dir):
    """The CSV experiments/names_csv.yaml reads, which `rnnbench data names --csv` writes (not shipped)."""
    path = tmp_path_factory.mktemp("names_csv") / "names.csv"
    made = invoke("data", "names", "--csv", path, "--data-dir", names_dir)
    assert made.exit_code == 0, made.output
    return path


@pytest.mark.parametrize("path", EXPERIMENTS, ids=lambda path: path.relative_to(REPO / "experiments").as_posix())
def test_every_shipped_variant_counts_as_torch_builds_it(path, names_dir, names_csv, monkeypatch):
    monkeypatch.chdir(REPO)  # the experiments name their files from the repository's root
    experiment = config.load(path)
    if experiment.data.dataset == "csv" and not Path(experiment.data.path).is_file():
        experiment = config.load(path, [f"data.path={names_csv}"])
    task, seed = task_of(experiment.data), experiment.seeds[0]
    source, _ = load_source(experiment.data, names_dir)
    variants = experiment.resolved_variants()
    for data in distinct_data(variants):
        sizes = task.model_sizes(data, source, seed)
        prepared = task.prepare(data, source, seed, torch.device("cpu"))
        assert {key: prepared.sizes[key] for key in sizes} == sizes  # what params counts from is what runs record
        assert set(task.MODEL_SIZES) & set(prepared.sizes) <= set(sizes)  # what params names above its table
        for name, (spec, _, variant_data) in variants.items():
            if variant_data != data:
                continue
            architecture, arguments = task.build(spec, data, prepared.sizes)
            assert task.build(spec, data, sizes) == (architecture, arguments), name
            assert architectures.counts(architecture, arguments) == counted(architecture, arguments), name


CELLS = [("rnn", "torch"), ("gru", "torch"), ("lstm", "torch")] + [
    (cell, "scratch") for cell in ("rnn", "gru", "lstm", "linear_rnn")
]
RECURRENT = [
    {"cell": cell, "impl": impl, "bidirectional": bidirectional, "num_layers": layers, "bias": bias}
    for (cell, impl), bidirectional, layers in itertools.product(CELLS, (False, True), (1, 2))
    for bias in (("double", "single") if impl == "scratch" else ("double",))
]  # every cell, fused and from the equations, uni and bi, one layer and stacked, torch's two biases and one
OPTIONS = {
    "RecurrentClassifier": [
        {"vocab_size": 30, "num_classes": 4, "hidden_size": 6, **head}
        for head in (
            {"embedding_dim": None},  # one-hot
            {"embedding_dim": 7, "head": "mean", "head_hidden": 5},
            {"embedding_dim": 7, "head": "max", "regression": True, "num_classes": 1},
            {"embedding_dim": None, "head": "flatten", "max_length": 9, "head_hidden": 3},
        )
    ],
    "Tagger": [
        {"source_symbols": 9, "target_symbols": 11, "hidden_size": 6, "embedding_dim": 5, **steps}
        for steps in ({}, {"regression": True, "length": 7})
    ],
    "RepeatDecoder": [
        {"source_symbols": 9, "target_symbols": 11, "hidden_size": 6, "embedding_dim": 5, **steps}
        for steps in ({}, {"regression": True, "length": 7})
    ],
    "EncoderDecoder": [
        {
            "source_symbols": 9,
            "target_symbols": 9 if shared else 11,
            "hidden_size": 6,
            "embedding_dim": 5,
            "attention": attention,
            "readout": readout,
            "shared_embedding": shared,
        }
        for attention, readout, shared in itertools.product(
            ("none", "dot", "additive", "location"), ("state_and_context", "context"), (False, True)
        )
    ],
    "RecurrentForecaster": [
        {"features": features, "horizon": 4, "hidden_size": 6, "strategy": strategy}
        for features, strategy in itertools.product((1, 3), ("direct", "recursive"))
    ],
}


@pytest.mark.parametrize("architecture", OPTIONS)
def test_every_option_of_every_recurrent_architecture_counts_as_torch_builds_it(architecture):
    for recurrent, options in itertools.product(RECURRENT, OPTIONS[architecture]):
        arguments = {**options, **recurrent}
        assert architectures.counts(architecture, arguments) == counted(architecture, arguments), arguments


@pytest.mark.parametrize(
    "architecture, arguments",
    [
        ("LinearClassifier", {"vocab_size": 30, "num_classes": 4, "max_length": 9, "hidden_size": 6}),
        ("LinearClassifier", {"vocab_size": 30, "num_classes": 4, "max_length": 9, "hidden_size": 6, "num_layers": 3}),
        ("MajorityClassifier", {"class_frequencies": [0.25, 0.75]}),
        ("BaselineForecaster", {"kind": "seasonal_naive", "horizon": 4}),
    ],
)
def test_the_baselines_count_as_torch_builds_them(architecture, arguments):
    assert architectures.counts(architecture, arguments) == counted(architecture, arguments)


def test_a_classifier_by_hand():
    arguments = {"vocab_size": 30, "num_classes": 5, "cell": "gru", "hidden_size": 64, "num_layers": 1}
    arguments |= {"bidirectional": False, "embedding_dim": 16}
    assert architectures.counts("RecurrentClassifier", arguments) == {
        "embedding": 30 * 16,
        "input_to_hidden": 3 * 64 * 16,
        "hidden_to_hidden": 3 * 64 * 64,
        "biases": 2 * 3 * 64,
        "head": 64 * 5 + 5,
        "total": 16549,
    }
    assert architectures.formula("RecurrentClassifier", arguments) == "3×(64·16 + 64² + 2·64)"


def test_a_budget_is_solved_as_torch_would_count_it():
    def arguments_at(hidden: int) -> tuple[str, dict]:
        return "RecurrentForecaster", {"features": 2, "horizon": 3, "cell": "lstm", "hidden_size": hidden}

    hidden = architectures.size_for_budget(arguments_at, 5000)
    totals = {size: counted(*arguments_at(size))["total"] for size in (hidden - 1, hidden, hidden + 1)}
    assert min(totals, key=lambda size: abs(totals[size] - 5000)) == hidden
