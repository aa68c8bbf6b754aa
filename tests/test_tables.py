"""Tables people can read at 80, 100 and 120 columns: a table too wide is drawn in blocks of columns, each repeating
the row names; no cell is ever cut to '…', and no line is wider than the terminal. A one-seed comparison of any task
fits 100 columns whole."""

import io
import json

import pytest
from conftest import REPO, SINE, TINY
from rich.console import Console
from rich.measure import Measurement
from test_cli import invoke

from rnnbench import compare, rundir, terminal, views
from rnnbench.cli import results as cli_results

ALL_LANGUAGES = {
    **TINY,
    "name": "all18",
    "data": {"languages": "all"},
    "grid": {"cell": ["gru", "lstm"]},
    "train": {**TINY["train"], "max_epochs": 1},
    "seeds": [0, 1],
}


@pytest.fixture(scope="module")
def eighteen(tmp_path_factory, names_dir):
    folder = tmp_path_factory.mktemp("tables")
    (folder / "e.yaml").write_text(json.dumps(ALL_LANGUAGES))
    result = invoke("run", folder / "e.yaml", "--results", folder / "results", "--data-dir", names_dir)
    assert result.exit_code == 0, result.output
    return folder / "results"


def _drawn(draw, width: int) -> str:
    console = Console(file=io.StringIO(), width=width, color_system=None)
    draw(console)
    return console.file.getvalue()


def _assert_whole(text: str, table: views.Table, width: int) -> None:
    assert "…" not in text
    assert max(map(len, text.splitlines())) <= width, text
    for row in table.rows:
        for cell in row:  # every number, and every word of the text, is there as written
            for word in cell.split():
                assert word in text, (word, text)
    for header in table.headers:
        for word in header.split():
            assert word in text


def _compare_table(part) -> views.Table:
    """One experiment's comparison as `compare` draws it."""
    headers = list(compare.headers(part))
    right = {i for i, header in enumerate(headers) if header not in compare.TEXT_COLUMNS}
    return views.Table("t", headers, compare.display_rows(part), right=right, narrow_headers=True)


def _natural_width(table: views.Table) -> int:
    console = Console(file=io.StringIO(), width=10_000)
    return Measurement.get(
        console, console.options, terminal.rich_table(table, list(range(len(table.headers))))
    ).maximum


@pytest.mark.parametrize("width", [80, 120])
def test_compare_tables_fit_the_terminal_without_cutting_a_number(eighteen, width, monkeypatch):
    runs, _ = rundir.find_runs(eighteen)
    summary = compare.summarize(compare.runs_frame(runs))
    part = compare.by_experiment(summary)[0][1]
    table = _compare_table(part)
    drawn = _drawn(
        lambda console: monkeypatch.setattr(cli_results, "out", console) or cli_results.print_table(summary), width
    )
    _assert_whole(drawn, table, width)
    rows = drawn.split(compare.legend(part)[:40])[0]  # the table, without the legend under it
    assert rows.count("gru-uni-1x8") == 1 + drawn.count("continued")  # names repeat per block
    # a second block carries the rest exactly where the whole table is wider than the terminal
    assert ("continued" in drawn) == (_natural_width(table) > width)


def test_compare_marks_the_run_predict_answers_from(eighteen):
    """The † row and its score come from the same choice `predict` makes, on real runs."""
    compared = invoke("compare", "--results", eighteen, "--format", "json")
    [marked] = [row for row in json.loads(compared.stdout) if row["predict_seed"] is not None]
    answered = invoke("predict", "Tribbiani", "--results", eighteen)
    assert answered.exit_code == 0, answered.output
    model_line = next(line for line in answered.stderr.splitlines() if line.startswith("model: "))
    chosen = rundir.load_run(model_line.split()[1])
    assert (chosen.spec.variant, chosen.spec.seed) == (marked["variant"], marked["predict_seed"])
    assert model_line.endswith(f"({marked['predict_reason']})")
    table = invoke("compare", "--results", eighteen)
    assert f"{marked['variant']} {compare.PREDICT_MARK}" in table.stdout
    assert f"{marked['variant']} seed {marked['predict_seed']}, best validation accuracy (" in table.stdout


ONE_SEED = {  # every task's shipped kind of experiment, small: one seed, one epoch
    "names": TINY,
    "csv_class": {**TINY, "data": {"dataset": "csv", "path": "NAMES_CSV"}},
    "csv_number": {
        **TINY,
        "data": {
            "dataset": "csv",
            "path": str(REPO / "experiments" / "data" / "vader_valence.csv"),
            "text_column": "text",
            "target_column": "valence",
            "target": "number",
        },
    },
    "reversal": {
        **TINY,
        "data": {"dataset": "reversal", "samples": 120, "long_samples": 20},
        "grid": {"cell": ["gru", "lstm"], "architecture": ["tagger", "encoder_decoder"]},
    },
    "series": {**TINY, "data": SINE, "model": {"hidden_size": 8}, "grid": {"cell": ["gru", "lstm"]}},
}


@pytest.fixture(scope="module")
def every_task(tmp_path_factory, names_dir):
    folder = tmp_path_factory.mktemp("every_task")
    names_csv = folder / "names.csv"
    made = invoke("data", "names", "--languages", "German,Italian", "--csv", names_csv, "--data-dir", names_dir)
    assert made.exit_code == 0, made.output
    for name, content in ONE_SEED.items():
        content = {**content, "name": name, "train": {**TINY["train"], "max_epochs": 1}, "seeds": [0]}
        if content["data"].get("path") == "NAMES_CSV":
            content["data"] = {**content["data"], "path": str(names_csv)}
        (folder / f"{name}.yaml").write_text(json.dumps(content))
        result = invoke("run", folder / f"{name}.yaml", "--results", folder / "results", "--data-dir", names_dir)
        assert result.exit_code == 0, result.output
    return folder / "results"


def test_a_one_seed_comparison_of_every_task_fits_100_columns_whole(every_task, monkeypatch):
    runs, _ = rundir.find_runs(every_task)
    summary = compare.summarize(compare.runs_frame(runs))
    assert {name for name, _ in compare.by_experiment(summary)} == set(ONE_SEED)
    for name, part in compare.by_experiment(summary):
        drawn = _drawn(
            lambda console, part=part: (
                monkeypatch.setattr(cli_results, "out", console) or cli_results.print_table(part)
            ),
            100,
        )
        _assert_whole(drawn, views.Table(name, list(compare.headers(part)), compare.display_rows(part)), 100)
        assert "continued" not in drawn, (name, drawn)  # one block: every column beside the names
        assert "untested" not in drawn and "shared seed" not in drawn, drawn  # one seed: said once, in words
        assert " ".join(drawn.split()).count("one seed cannot test") == 1, drawn  # the legend, wrapped
        assert drawn.count(compare.PREDICT_MARK) == 2, drawn  # the row predict answers from, and the line on it


@pytest.mark.parametrize("width", [80, 120])
def test_show_on_18_languages_prints_every_label_and_count(eighteen, width):
    from rnnbench.tasks import names

    [record] = [run for run in rundir.find_runs(eighteen)[0] if run.spec.seed == 0 and run.spec.model.cell == "gru"]
    tables = names.show_tables(record, rundir.load_predictions(record.path), 3)
    for table in [table for table in tables if isinstance(table, views.Table)]:  # the rest are sentences
        drawn = _drawn(lambda console, table=table: terminal.print_view(table, console), width)
        _assert_whole(drawn, table, width)


def test_a_table_that_fits_is_one_block_and_a_lone_wide_column_wraps_its_text():
    table = views.Table("t", ["name", "n", "examples"], [["a", "1", "word " * 40], ["b", "22", "x"]], right={1})
    assert terminal.column_blocks(table, Console(width=200)) == [[0, 1, 2]]
    assert terminal.column_blocks(table, Console(width=20)) == [[0, 1], [0, 2]]
    _assert_whole(_drawn(lambda console: terminal.print_view(table, console), 40), table, 40)
