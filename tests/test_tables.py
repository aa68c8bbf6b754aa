"""Tables people can read at 80 and 120 columns: a table too wide is drawn in blocks of columns, each repeating
the row names; no cell is ever cut to '…', and no line is wider than the terminal."""

import io
import json

import pytest
from conftest import TINY
from rich.console import Console
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


@pytest.mark.parametrize("width", [80, 120])
def test_compare_tables_fit_the_terminal_without_cutting_a_number(eighteen, width, monkeypatch):
    runs, _ = rundir.find_runs(eighteen)
    summary = compare.summarize(compare.runs_frame(runs))
    part = compare.by_experiment(summary)[0][1]
    table = views.Table("all18", list(compare.headers(part)), compare.display_rows(part))
    drawn = _drawn(
        lambda console: monkeypatch.setattr(cli_results, "out", console) or cli_results.print_table(summary), width
    )
    _assert_whole(drawn, table, width)
    assert drawn.count("gru-uni-1x8") == 1 + ("continued" in drawn) * drawn.count("continued")  # names repeat per block
    assert "continued" in drawn  # 13 columns fit neither 80 nor 120 characters: a second block carries the rest


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
