"""The reversal task's data and models: generated sequences, teacher forcing, greedy decoding, attention, the
tutorial's regression framing and Keras conventions."""

import json
import random

import pytest
import torch
from test_cli import REVERSAL, assert_clean_failure, invoke

from rnnbench import architectures, metrics
from rnnbench.data import reversal
from rnnbench.errors import RnnbenchError
from rnnbench.fields import ModelSpec
from rnnbench.sequence_models import EncoderDecoder, RepeatDecoder, Tagger, frame


def test_reverse_within_length_example():
    tokens = torch.tensor([[3, 7, 2, 0], [5, 0, 0, 0]])
    assert reversal.reverse_within_length(tokens, torch.tensor([3, 1])).tolist() == [[2, 7, 3, 0], [5, 0, 0, 0]]


def test_generated_data_is_seeded_and_in_range():
    data = reversal.build(seed=3, samples=200, long_samples=50)
    again = reversal.build(seed=3, samples=200, long_samples=50)
    other = reversal.build(seed=4, samples=200, long_samples=50)
    assert torch.equal(data.splits["train"].tokens, again.splits["train"].tokens)
    assert not torch.equal(data.splits["train"].tokens, other.splits["train"].tokens)
    assert data.sizes == {
        "train_size": 160,
        "validation_size": 20,
        "test_size": 20,
        "long_size": 50,
        "symbols": 9,
        "draw": "distinct",
    }
    for name, (low, high) in {"train": (1, 5), "test": (1, 5), "long": (6, 10)}.items():
        split = data.splits[name]
        assert low <= int(split.lengths.min()) and int(split.lengths.max()) <= high
        real = torch.arange(split.tokens.shape[1])[None, :] < split.lengths[:, None]
        assert bool(((split.tokens >= 1) & (split.tokens <= 9))[real].all()) and bool((split.tokens[~real] == 0).all())
        assert torch.equal(reversal.reverse_within_length(split.targets, split.lengths), split.tokens)


def sequences(split) -> list[tuple[int, ...]]:
    return [tuple(row[:length].tolist()) for row, length in zip(split.tokens, split.lengths)]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_no_sequence_is_in_two_splits(seed):
    """The shipped experiment's data: a third of its test sequences used to be training sequences too."""
    data = reversal.build(seed=seed, samples=1000, test_fraction=0.2)
    found = {name: sequences(split) for name, split in data.splits.items()}
    assert all(len(set(found[name])) == len(found[name]) for name in reversal.SPLITS)  # no repeats inside a split
    every = [sequence for name in reversal.SPLITS for sequence in found[name]]
    assert len(set(every)) == len(every) == 2000
    assert data.sizes == {
        "train_size": 700,
        "validation_size": 100,
        "test_size": 200,
        "long_size": 1000,
        "symbols": 9,
        "draw": "distinct",
    }
    assert not any(data.report["overlap"].values())
    assert reversal.describe_overlap(data.report).startswith(
        "no sequence is in two splits (checked: train ∩ validation 0"
    )


def test_samples_are_distinct_sequences_and_short_lengths_run_out():
    """Every one of the 66,429 sequences of lengths 1-5 can be asked for, once each; the report counts them."""
    data = reversal.build(seed=0, samples=66_429, long_samples=0)
    assert (
        len(
            set(sequences(data.splits["train"]) + sequences(data.splits["validation"]) + sequences(data.splits["test"]))
        )
        == 66_429
    )
    rows = data.report["lengths"]
    assert [(row["length"], row["exist"]) for row in rows] == [(1, 9), (2, 81), (3, 729), (4, 6561), (5, 59049)]
    assert all(row["train"] + row["validation"] + row["test"] == row["exist"] and row["long"] == 0 for row in rows)
    with pytest.raises(
        RnnbenchError, match="66,430 distinct sequences of lengths 1–5 over 9 symbols asked for; only 66,429"
    ):
        reversal.build(seed=0, samples=66_430, long_samples=0)


def test_counts_per_length_follow_drawing_and_discarding_repeats():
    """The arrival-time shortcut gives what drawing (a uniform length, then uniform symbols) and keeping first copies
    gives: the mean sequences per length over 300 seeds agree within a few percent."""
    spaces, samples, seeds = [9, 81, 729], 100, 300
    shortcut, drawn = torch.zeros(3), torch.zeros(3)
    for seed in range(seeds):
        shortcut += torch.tensor(reversal.counts_per_length(samples, spaces, torch.Generator().manual_seed(seed)))
        rng, seen = random.Random(seed), set()
        while len(seen) < samples:
            length = rng.randrange(len(spaces))
            seen.add((length, rng.randrange(spaces[length])))
        drawn += torch.bincount(torch.tensor([length for length, _ in seen]), minlength=3)
    torch.testing.assert_close(shortcut / seeds, drawn / seeds, rtol=0.02, atol=0)  # both about [9.0, 39.3, 51.7]


def test_row_ids_are_exact_for_rows_wider_than_one_int64():
    rows = torch.randint(1, 10, (50, 40), generator=torch.Generator().manual_seed(0))  # 40 digits: three chunks
    rows = torch.cat([rows, rows[:5]])
    rows[0, -1] = 10 - rows[0, -1]  # differs from its copy in the last column only
    ids = reversal.row_ids(rows, 11)
    assert ids[0] != ids[50] and (ids[1:5] == ids[51:55]).all() and len(ids.unique()) == 51
    assert reversal.first_copies(torch.tensor([4, 2, 4, 7])).tolist() == [0, 1, 3]


def test_split_overlap_counts_what_two_splits_share():
    def split(rows, lengths):
        return reversal.TensorSplit(torch.tensor(rows), torch.tensor(lengths), torch.tensor(rows))

    splits = {
        "train": split([[3, 7]], [2]),
        "validation": split([[4, 0]], [1]),
        "test": split([[3, 7], [5, 0]], [2, 1]),
        "long": split([[1, 2, 3]], [3]),
    }
    overlap = reversal.split_overlap(splits, 9)
    assert overlap["train_test"] == 1 and overlap["test_seen_in_training"] == 0.5
    assert overlap["train_validation"] == overlap["validation_test"] == overlap["train_long"] == 0
    report = {"overlap": overlap, "sizes": {"train": 1, "validation": 1, "test": 2, "long": 1}}
    assert reversal.describe_overlap(report).startswith("sequences in two splits: train ∩ validation 0, train ∩ test 1")


def test_split_leaky_draws_as_the_tutorials_do_and_says_how_much_leaks():
    """The tutorials' draw (repeats included), kept to reproduce them: the report counts what it shares."""
    data = reversal.build(seed=0, samples=1000, test_fraction=0.2, split="leaky")
    overlap = data.report["overlap"]
    assert overlap["train_test"] == 39 and overlap["test_seen_in_training"] == pytest.approx(
        0.385
    )  # the 33-45%
    assert overlap["validation_seen_in_training"] == pytest.approx(0.37)
    said = reversal.describe_overlap(data.report)
    assert said.startswith(
        "split: leaky: drawn with repeats, as the tutorials do; sequences in two splits: train ∩ "
        "validation 22, train ∩ test 39"
    )
    assert len(reversal.build(seed=0, samples=200, max_length=2, long_samples=0, split="leaky").splits["train"]) == 160


def test_validate_refuses_more_sequences_than_exist_and_a_long_set_of_training_lengths(write_experiment):
    content = {"name": "rev", "data": {"dataset": "reversal", "samples": 100, "max_length": 2, "long_samples": 0}}
    assert_clean_failure(
        invoke("validate", write_experiment(content)),
        2,
        "data.samples: 100 distinct sequences asked for, but only 90 of lengths 1–2 over 9 symbols exist",
    )
    content["data"] = {"dataset": "reversal", "max_length": 7}
    assert_clean_failure(
        invoke("validate", write_experiment(content)), 2, "data.long_min_length: 6 is a training length (1–7)"
    )
    content["data"] = {
        "dataset": "reversal",
        "long_samples": 600,
        "long_min_length": 6,
        "long_max_length": 6,
        "symbols": 2,
    }
    assert_clean_failure(
        invoke("validate", write_experiment(content)),
        2,
        "data.long_samples: 600 distinct sequences asked for, but only 64 of lengths 6–6 over 2 symbols",
    )
    content["data"] = {"dataset": "reversal", "samples": 100, "max_length": 2, "long_samples": 0, "split": "leaky"}
    assert invoke("validate", write_experiment(content)).exit_code == 0  # repeats allowed: nothing runs out


def test_validate_refuses_fractions_that_leave_a_split_empty(write_experiment):
    content = {
        "name": "rev",
        "data": {"dataset": "reversal", "samples": 10, "test_fraction": 0.001, "validation_fraction": 0.001},
        "train": {"patience": 2},
    }
    refused = invoke("validate", write_experiment(content))
    assert_clean_failure(
        refused,
        2,
        "data.test_fraction: leaves no test sequences of 10 samples",
        "data.validation_fraction: leaves no validation sequences of 10 samples",
    )


def test_a_run_saves_and_reports_the_split_check(write_experiment, tmp_path):
    content = {
        "name": "rev",
        "data": {"dataset": "reversal", "samples": 120, "long_samples": 20},
        "model": {"hidden_size": 8, "embedding_dim": 8, "architecture": "tagger"},
        "train": {"max_epochs": 1, "patience": 0},
        "seeds": [0],
        "device": "cpu",
    }
    results = tmp_path / "results"
    run = invoke("run", write_experiment(content), "--results", results)
    assert run.exit_code == 0, run.output
    assert "longer ones, all distinct; device cpu" in run.output  # the split check: once, under the table
    assert run.output.count("no sequence is in two splits (checked: train ∩ validation 0") == 1
    assert "exist" in run.output  # the per-length table
    saved = json.loads(next(results.glob("rev/*/seed-0/data.json")).read_text())
    assert saved["sizes"] == {"train": 84, "validation": 12, "test": 24, "long": 20}
    assert not any(saved["overlap"].values()) and saved["lengths"][0] == {
        "length": 1,
        "exist": 9,
        **{name: saved["lengths"][0][name] for name in reversal.SPLITS},
    }
    assert invoke("report", "rev", "--results", results).exit_code == 0
    report = (results / "rev" / "report" / "report.md").read_text()
    assert "distinct sequences per length" in report and "- seed 0: no sequence is in two splits" in report
    # a run from before sequences were drawn distinct (same settings, so the same key) is not reused silently
    metrics_file = next(results.glob("rev/*/seed-0/metrics.json"))
    metrics_json = json.loads(metrics_file.read_text())
    assert metrics_json["data"]["draw"] == "distinct"
    del metrics_json["data"]["draw"]
    metrics_file.write_text(json.dumps(metrics_json))
    assert_clean_failure(
        invoke("run", write_experiment(content), "--results", results),
        1,
        "trained on other data (draw not recorded, now distinct)",
        "rename the experiment",
    )


@pytest.mark.parametrize(
    "attention, sentinels, readout",
    [
        ("none", False, "state_and_context"),
        ("none", True, "state_and_context"),
        ("dot", False, "state_and_context"),
        ("additive", True, "context"),
        ("location", False, "state_and_context"),
        ("location", True, "state_and_context"),
        ("location", True, "context"),
    ],
)
@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("cell", ["gru", "lstm"])
def test_encoder_decoder_shapes_and_padding(cell, bidirectional, attention, sentinels, readout):
    torch.manual_seed(0)
    model = EncoderDecoder(
        9,
        9,
        cell,
        8,
        num_layers=2,
        bidirectional=bidirectional,
        attention=attention,
        sentinels=sentinels,
        readout=readout,
    ).eval()
    tokens, lengths = torch.tensor([[3, 7, 2], [5, 0, 0]]), torch.tensor([3, 1])
    targets = reversal.reverse_within_length(tokens, lengths)
    logits, loss = model(tokens, lengths, targets)
    assert logits.shape == (2, 4, 12) and loss.item() > 0
    # padding after a sequence never changes its decoding
    wider = torch.nn.functional.pad(tokens, (0, 4))
    torch.testing.assert_close(model.predict(wider, lengths, 6), model.predict(tokens, lengths, 6))


def test_tagger_answers_one_id_per_real_step():
    model = Tagger(9, 9, "rnn", 8, bidirectional=True).eval()
    predictions = model.predict(torch.tensor([[3, 7, 2], [5, 0, 0]]), torch.tensor([3, 1]))
    assert predictions.shape == (2, 3) and predictions[1, 1:].tolist() == [0, 0]


def train(model, data, epochs: int):
    """Adam at 5e-3, batch 32, a seeded order per epoch: the plain loop the model tests below share."""
    optimizer = torch.optim.Adam(model.parameters(), lr=5e-3)
    for epoch in range(epochs):
        for batch in data.splits["train"].batches(32, torch.Generator().manual_seed(epoch)):
            _, loss = model(batch.tokens, batch.lengths, batch.targets)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    return model.eval()


@pytest.mark.slow
def test_encoder_decoder_learns_to_reverse():
    data = reversal.build(seed=0)
    torch.manual_seed(0)
    model = train(EncoderDecoder(9, 9, "lstm", 64, shared_embedding=True), data, epochs=30)
    test = data.splits["test"]
    predictions = model.predict(test.tokens, test.lengths, max_steps=6)
    targets = torch.nn.functional.pad(test.targets, (0, 6 - test.targets.shape[1]))  # also checks the EOS came
    exact = (predictions == targets).all(dim=1).float().mean().item()
    assert exact >= 0.95, exact  # 0.97 on this seed (distinct sequences)


def test_frame_puts_sentinels_around_each_sequence():
    tokens, lengths = torch.tensor([[3, 7], [5, 0]]), torch.tensor([2, 1])
    framed, framed_lengths = frame(tokens, lengths, symbols=9)
    assert framed.tolist() == [[11, 3, 7, 10], [11, 5, 10, 0]] and framed_lengths.tolist() == [4, 3]


def test_location_attention_starts_half_on_each_sentinel():
    model = EncoderDecoder(9, 9, "gru", 8, attention="location", sentinels=True)
    *_, start = model._encode(torch.tensor([[3, 7, 2], [5, 0, 0]]), torch.tensor([3, 1]))
    assert start.tolist() == [[0.5, 0, 0, 0, 0.5], [0.5, 0, 0.5, 0, 0]]  # BOS at 0, EOS after the last symbol
    assert (
        EncoderDecoder(9, 9, "gru", 8, attention="location")._encode(torch.tensor([[3]]), torch.tensor([1]))[3] is None
    )


@pytest.mark.slow
def test_location_attention_from_the_sentinels_generalises_to_longer_sequences():
    """The claim behind `sentinels` + `readout: context`: trained on lengths 1-5 only, it reverses lengths 6-8."""
    data = reversal.build(seed=0, long_samples=200, long_min_length=6, long_max_length=8)
    torch.manual_seed(0)
    model = train(
        EncoderDecoder(
            9, 9, "lstm", 32, attention="location", sentinels=True, readout="context", shared_embedding=True
        ),
        data,
        15,
    )
    long = data.splits["long"]
    scores = metrics.sequence_scores(model.predict(long.tokens, long.lengths, 9), long.targets, long.lengths)
    assert scores["exact_accuracy"] >= 0.9, scores  # 1.0 on this seed; location attention from zeros: ~0.3


@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("cell", ["rnn", "lstm"])
def test_repeat_decoder_answers_one_id_per_real_step_whatever_the_padding(cell, bidirectional):
    torch.manual_seed(0)
    model = RepeatDecoder(9, 9, cell, 8, num_layers=2, bidirectional=bidirectional).eval()
    tokens, lengths = torch.tensor([[3, 7, 2], [5, 0, 0]]), torch.tensor([3, 1])
    logits, loss = model(tokens, lengths, reversal.reverse_within_length(tokens, lengths))
    assert logits.shape == (2, 3, 12) and loss.item() > 0
    predictions = model.predict(tokens, lengths)
    assert predictions[1, 1:].tolist() == [0, 0]
    torch.testing.assert_close(model.predict(torch.nn.functional.pad(tokens, (0, 4)), lengths)[:, :3], predictions)


@pytest.mark.parametrize("architecture", [Tagger, RepeatDecoder])
def test_regression_reads_and_scores_the_fixed_length_padding_included(architecture):
    torch.manual_seed(0)
    model = architecture(9, 9, "lstm", 8, regression=True, length=5).eval()
    tokens, lengths = torch.tensor([[3, 7, 2], [5, 0, 0]]), torch.tensor([3, 1])
    targets = reversal.reverse_within_length(tokens, lengths)
    values, loss = model(tokens, lengths, targets)
    assert values.shape == (2, 5, 1)  # padded to the fixed length 5, every step read
    padded_targets = torch.nn.functional.pad(targets, (0, 2)).float()
    torch.testing.assert_close(loss, ((values.squeeze(-1) - padded_targets) ** 2).mean())
    answer = model.predict(tokens, lengths)
    expected = values.squeeze(-1).round().clamp(0, 9).long()[:, :5]
    assert answer[0, :3].tolist() == expected[0, :3].tolist() and answer[1, 1:].tolist() == [0, 0, 0, 0]


@pytest.mark.parametrize(
    "model, published",
    [
        (
            lambda: Tagger(
                9, 9, "lstm", 64, impl="scratch", bias="single", activation="relu", regression=True, length=5
            ),
            16_961,
        ),
        (
            lambda: Tagger(
                9,
                9,
                "lstm",
                64,
                bidirectional=True,
                impl="scratch",
                bias="single",
                activation="relu",
                regression=True,
                length=5,
            ),
            33_921,
        ),
        (lambda: RepeatDecoder(9, 9, "lstm", 64, impl="scratch", bias="single", regression=True, length=5), 49_985),
    ],
    ids=["tagger", "bidirectional-tagger", "repeat-decoder"],
)
def test_keras_convention_models_have_the_published_parameter_counts(model, published):
    assert metrics.count_parameters(model()) == published


def test_predict_passes_over_runs_on_a_leaky_split_when_others_can_answer():
    from types import SimpleNamespace

    from rnnbench.tasks import reversal as task

    run = lambda split: SimpleNamespace(spec=SimpleNamespace(data=SimpleNamespace(split=split)))  # noqa: E731
    honest, leaky = run("distinct"), run("leaky")
    assert task.candidates([leaky, honest]) == ([honest], ["1 reversal runs", "1 runs on a leaky split passed over"])
    assert task.candidates([leaky]) == ([leaky], ["1 reversal runs"])


def test_source_and_target_vocabularies_size_their_own_layers():
    """Letters in, phonemes out: the input embedding has the source's ids, the output layer and the decoder's own
    embedding the target's (each symbols + PAD, EOS and BOS)."""
    torch.manual_seed(0)
    model = EncoderDecoder(26, 40, "gru", 8, bidirectional=True, attention="location", sentinels=True).eval()
    assert model.embedding.weight.shape == (29, 16) and model.target_embedding.weight.shape == (43, 16)
    assert model.out.out_features == 43
    tokens, lengths = torch.tensor([[26, 1, 2], [5, 0, 0]]), torch.tensor([3, 1])  # 26: the last source symbol
    targets = torch.tensor([[40, 39, 1], [7, 0, 0]])  # 40: the last target symbol (the answer's length is the input's)
    logits, loss = model(tokens, lengths, targets)
    assert logits.shape == (2, 4, 43) and loss.item() > 0
    assert int(model.predict(tokens, lengths, 6).max()) <= 42
    assert metrics.parameter_breakdown(model)["embedding"] == (29 + 43) * 16  # both count as embedding
    for architecture in (Tagger, RepeatDecoder):
        tagger = architecture(26, 40, "lstm", 8)
        assert tagger.embedding.num_embeddings == 29 and tagger.out.out_features == 43
        assert tagger(tokens, lengths, targets)[0].shape == (2, 3, 43)
    with pytest.raises(ValueError, match="one vocabulary"):
        EncoderDecoder(26, 40, "gru", 8, shared_embedding=True)


def test_one_vocabulary_keeps_one_embedding_and_the_same_parameters():
    """Reversal's models are what they were before source and target were told apart: one embedding under the same
    name, created in the same order, so a seed gives the same weights (47,820: the count reversal.yaml's LSTM with
    dot attention always had)."""
    model = EncoderDecoder(9, 9, "lstm", 64, attention="dot", shared_embedding=True)
    assert model.target_embedding is None and metrics.count_parameters(model) == 47_820
    names = list(model.state_dict())
    assert names[0] == "embedding.weight" and not any("target" in name for name in names)
    architecture, arguments = architectures.sequence_arguments(
        ModelSpec(cell="lstm", attention="dot", embedding_dim=16),
        "encoder_decoder",
        source_symbols=9,
        target_symbols=9,
        one_vocabulary=True,
        length=5,
    )
    assert architecture == "EncoderDecoder" and arguments["shared_embedding"] is True


OLD_ARGUMENTS = {
    "Tagger": {"symbols": 9, "cell": "gru", "hidden_size": 16, "bidirectional": True, "regression": False},
    "EncoderDecoder": {"symbols": 9, "cell": "lstm", "hidden_size": 16, "attention": "dot"},
}


def test_current_arguments_reads_the_single_symbols_of_older_runs():
    assert architectures.current_arguments("Tagger", OLD_ARGUMENTS["Tagger"]) == {
        "source_symbols": 9,
        "target_symbols": 9,
        "cell": "gru",
        "hidden_size": 16,
        "bidirectional": True,
        "regression": False,
    }
    assert architectures.current_arguments("EncoderDecoder", OLD_ARGUMENTS["EncoderDecoder"]) == {
        "source_symbols": 9,
        "target_symbols": 9,
        "cell": "lstm",
        "hidden_size": 16,
        "attention": "dot",
        "shared_embedding": True,
    }
    today = {"source_symbols": 26, "target_symbols": 40, "cell": "gru"}
    assert architectures.current_arguments("EncoderDecoder", today) is today


def test_runs_saved_with_one_symbols_argument_still_predict(write_experiment, tmp_path):
    """A run directory written before source and target vocabularies (its model.json holds `symbols`) loads and
    answers as it did: the same weights, under the same names."""
    experiment = {
        **REVERSAL,
        "variants": [
            {"architecture": "tagger", "bidirectional": True},
            {"cell": "lstm", "attention": "dot"},
            {"architecture": "repeat_decoder", "cell": "lstm", "regression": True},
        ],
        "train": {**REVERSAL["train"], "max_epochs": 1},
    }
    results = tmp_path / "results"
    assert invoke("run", write_experiment(experiment), "--results", results).exit_code == 0
    runs = sorted(results.glob("rev/*/seed-0"))
    assert len(runs) == 3
    for run in runs:
        today = json.loads(invoke("predict", "3 7 2", "9 1 4 4", "--run", run, "--json").stdout)
        info = json.loads((run / "model.json").read_text())
        arguments = info["arguments"]
        assert arguments.pop("source_symbols") == arguments.pop("target_symbols") == 9
        arguments.pop("shared_embedding", None)
        info["arguments"] = {"symbols": 9, **arguments}  # what rnnbench wrote before
        (run / "model.json").write_text(json.dumps(info))
        older = invoke("predict", "3 7 2", "9 1 4 4", "--run", run, "--json")
        assert older.exit_code == 0, older.output
        assert json.loads(older.stdout) == today
        assert_clean_failure(invoke("predict", "3 10 2", "--run", run), 1, "'10' is not a symbol 1..9")
