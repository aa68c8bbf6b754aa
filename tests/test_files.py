"""A user's file is read the same way by every reader (the csv task, the series task, `predict --file`): rows with
more or fewer fields than the header, a column named twice and numbers that are not plain numbers are refused in
the same words, naming the file and the line; times that are not times never switch the order check off; and a
data check `validate` makes stops `run` once, before anything trains, with a closing line that says what to fix
rather than to retry."""

import json

import pytest
from test_cli import assert_clean_failure, invoke
from test_series import SINE, TINY

from rnnbench import rundir
from rnnbench.data import csvfile, delimited, numbers, series
from rnnbench.errors import RnnbenchError
from rnnbench.predict import read_inputs


def refusal(read, path) -> str:
    with pytest.raises(RnnbenchError) as caught:
        read(path)
    message = str(caught.value)
    assert "\n" not in message and message.startswith(f"{path}: "), message
    return message


READERS = {  # each reads a file whose header is `a,b` (columns a and b)
    "csv task": lambda path: csvfile.read_table(path, "a", "b", "class"),
    "series task": lambda path: series.read_csv(str(path), "b", "a"),
    "predict --file": lambda path: read_inputs(path, "a"),
}


@pytest.mark.parametrize("reader", READERS)
def test_every_reader_refuses_rows_of_the_wrong_length_the_same_way(tmp_path, reader):
    read = READERS[reader]
    more = tmp_path / "more.csv"
    more.write_text("a,b\n1,2\n2,3,4\n3,5\n", encoding="utf-8")
    assert refusal(read, more) == (
        f"{more}: line 3: 3 fields where the header has 2; put a field that contains a comma in double quotes"
    )
    fewer = tmp_path / "fewer.csv"
    fewer.write_text('a,b\n1,2\n"two\nlines"\n3,5\n', encoding="utf-8")  # a row is named by the line it starts on
    assert refusal(read, fewer) == (
        f"{fewer}: line 3: 1 field where the header has 2; give every row a field for each column (an empty field "
        "is nothing between two separators)"
    )
    twice = tmp_path / "twice.csv"
    twice.write_text("a,b, b \n1,2,3\n", encoding="utf-8")  # spaces around a name do not make it another
    assert refusal(read, twice) == f"{twice}: line 1: the header names column 'b' 2 times; name each column once"
    tabs = tmp_path / "tabs.tsv"
    tabs.write_text("a\tb\n1\t2\t3\n", encoding="utf-8")
    assert refusal(read, tabs).endswith(
        "line 2: 3 fields where the header has 2; put a field that contains a tab in double quotes"
    )
    quote = tmp_path / "quote.csv"
    quote.write_text('a,b\n1,2\n"3"4,5\n', encoding="utf-8")  # read as 34 by pandas and float(), without a word
    assert "line 3: text after a closing double quote" in refusal(read, quote)


def test_blank_lines_are_skipped_and_a_row_of_empty_fields_is_a_row(tmp_path):
    path = tmp_path / "s.csv"
    path.write_text("a,b\n1,10\n\n   \n2,11\n,\n", encoding="utf-8")
    header, rows = delimited.read_rows(str(path), path.read_text())
    assert (header, list(rows)) == (["a", "b"], [(2, ["1", "10"]), (5, ["2", "11"]), (6, ["", ""])])
    assert "line 6, column 'b': missing value" in refusal(lambda p: series.read_csv(str(p), "b", "a"), path)


def test_the_number_parser_takes_plain_numbers_only():
    accepted = {"112": 112.0, " -0.5 ": -0.5, "+3": 3.0, ".5": 0.5, "1.": 1.0, "2.5e3": 2500.0, "1E-4": 1e-4}
    for text, number in accepted.items():
        assert numbers.parse(text) == number
    said = {
        "": "is empty",
        "nan": "is not a finite number",
        "-Infinity": "is not a finite number",
        "1e999": "is not a finite number",
        "1_000": "is not a number (no thousands separators or decimal commas: write 1234.5)",
        "1,234": "is not a number (no thousands separators or decimal commas: write 1234.5)",
        "1 234": "is not a number (no thousands separators or decimal commas: write 1234.5)",
        "١٢٣": "is not a number (write its digits as ASCII 0-9)",
        "１２": "is not a number (write its digits as ASCII 0-9)",
        "0x10": "is not a number",
        "5%": "is not a number",
        "1.2.3": "is not a number",
    }
    for text, why in said.items():
        assert numbers.parse(text) is None and numbers.why_not(text) == why, text
    assert [float(text) for text in ("1_000", "١٢٣", "１２")] == [1000.0, 123.0, 12.0]  # float() took them, silently
    with pytest.raises(RnnbenchError, match=r"^here: '1_000' is not a number \(no thousands"):
        numbers.finite_number("1_000", "here")


@pytest.mark.parametrize("reader", ["csv task", "series task"])
def test_every_reader_refuses_numbers_that_float_would_take(tmp_path, reader):
    path = tmp_path / "n.csv"
    path.write_text("a,b\n1,2\n2,1_000\n3,4\n", encoding="utf-8")
    read = {
        "csv task": lambda p: csvfile.read_table(p, "a", "b", "number"),
        "series task": lambda p: series.read_csv(str(p), "b", "a"),
    }[reader]
    assert "line 3, column 'b': '1_000' is not a number (no thousands separators" in refusal(read, path)


@pytest.mark.parametrize(
    "times, said",
    [
        (["0", "1", "nan", "2"], "line 4, column 't': 'nan' is not a time"),  # nan once switched the order check off
        (["0", "1", "nan", "3"], "line 4, column 't': 'nan' is not a time"),
        (["0", "inf", "2", "3"], "line 3, column 't': 'inf' is not a time"),
        (["0", "", "2", "3"], "line 3, column 't': the time is empty; every row needs its time"),
        (["1949-01", "nan", "1949-03", "1949-04"], "line 3, column 't': 'nan' is not a time"),
        (["0", "1_0", "2", "3"], "line 3, column 't': '1_0' is not a time"),
        (["0", "2", "1", "3"], "line 4, column 't': time '1' comes before '2' (line 3); sort the rows in time order"),
        (["0", "1", "1", "3"], "line 4, column 't': time '1' repeats line 3; one row per time step"),
        (["0", "1949-01", "1", "3"], "line 3, column 't': '1949-01' mixes numbers and dates ('0' on line 2)"),
    ],
)
def test_a_time_that_is_not_a_time_is_refused_and_never_switches_the_order_check_off(tmp_path, times, said):
    path = tmp_path / "t.csv"
    path.write_text("t,y\n" + "".join(f"{time},{i + 1}\n" for i, time in enumerate(times)), encoding="utf-8")
    assert refusal(lambda p: series.read_csv(str(p), "y", "t"), path).startswith(f"{path}: {said}")


def airline_with_a_zero(tmp_path):
    """The airline series, 1949-01 to 1950-12 (24 months), with a 0 for 1949-12 (line 13 of the file)."""
    path = tmp_path / "airline.csv"
    values = [112, 118, 132, 129, 121, 135, 148, 148, 136, 119, 104, 0, 115, 126, 141, 135, 125, 149, 170, 170]
    values += [158, 133, 114, 140]
    months = [f"{1949 + i // 12}-{i % 12 + 1:02d}" for i in range(len(values))]
    path.write_text("Date,Passengers\n" + "".join(f"{m},{v}\n" for m, v in zip(months, values)), encoding="utf-8")
    return path


def test_a_check_validate_makes_stops_run_once_before_any_training(tmp_path, write_experiment):
    path = airline_with_a_zero(tmp_path)
    data = {
        **SINE,
        "path": str(path),
        "column": "Passengers",
        "time_column": "Date",
        "input_length": 4,
        "horizon": 2,
        "seasonal_period": 1,
        "test_length": 4,
        "validation_length": 2,
    }
    said = (
        f"{path}: line 13, column 'Passengers' (time 1949-12): 0 is not positive, and data.transform: log needs every "
        "value positive (the features are logged too); fix the value, or use transform: none"
    )
    # the experiment's own transform, and a transform only a grid sets beside one that reads the series as it is
    for extra in (
        {"data": {**data, "transform": "log"}},
        {"grid": {"cell": ["gru"], "data": {"transform": ["none", "log"]}}},
    ):
        experiment = write_experiment({**TINY, "data": data, **extra, "seeds": [0, 1]})
        assert_clean_failure(invoke("validate", experiment), 1, said)
        results = tmp_path / "results"
        ran = invoke("run", experiment, "--results", results)
        assert_clean_failure(ran, 1, said)
        assert ran.output.count(said) == 1 and "failed:" not in ran.output and "retry" not in ran.output
        assert not list(results.rglob("metrics.json")) and not list(results.rglob("*.failed.json"))


def test_run_prepares_each_seed_once_though_it_checks_the_data_first(tmp_path):
    from rnnbench import config
    from rnnbench.events import DataPrepared
    from rnnbench.sweep import run_experiment

    experiment = config.validate({**TINY, "seeds": [0, 1], "train": {**TINY["train"], "max_epochs": 1}})
    prepared = []
    outcome = run_experiment(
        experiment,
        None,
        tmp_path / "r",
        on_event=lambda event: prepared.append(event.seed) if isinstance(event, DataPrepared) else None,
    )
    assert not outcome.failures and prepared == [0, 1]  # the check's data is the first runs' data


def test_the_closing_line_says_what_to_fix_for_a_failure_a_retry_repeats(tmp_path, write_experiment, monkeypatch):
    from rnnbench.tasks import series as task

    build = task.build

    def build_or_refuse(model, data, sizes):  # a problem of the settings that only a run meets: every retry meets it
        if model.cell == "lstm":
            raise RnnbenchError("model.cell: lstm cannot read this series")
        return build(model, data, sizes)

    monkeypatch.setattr(task, "build", build_or_refuse)
    experiment = write_experiment({**TINY, "grid": {"cell": ["gru", "lstm"]}})
    ran = invoke("run", experiment, "--results", tmp_path / "r", "--json", "--jobs", "1")  # here: the patch holds
    assert_clean_failure(
        ran,
        1,
        "1 run of 6 failed (listed above;",
        "1 run failed on the data or the settings, and running again repeats it: fix what the message says, then run "
        "the same command (finished runs are kept): model.cell: lstm cannot read this series",
    )
    assert "retry them" not in ran.output
    failed = json.loads(ran.stdout)["failed"]
    assert [(f["variant"], f["retry_repeats_it"]) for f in failed] == [("lstm-uni-1x8", True)]
    assert len(rundir.find_runs(tmp_path / "r")[0]) == 5  # the other runs went on


def test_failures_a_retry_can_change_are_told_to_retry(tmp_path):
    from rnnbench.cli.run import _failures_said
    from rnnbench.compare import count
    from rnnbench.sweep import Failure

    record = tmp_path / ".incomplete" / "x.failed.json"
    crashed = Failure(None, "out of memory (RuntimeError: ...)", record, repeats=False)
    refused = Failure(None, "data.x: bad", record, repeats=True)
    other = Failure(None, "data.y: bad", record, repeats=True)
    said = _failures_said([crashed, refused, refused, other], 9, count)
    assert said[0] == f"4 runs of 9 failed (listed above; tracebacks in {record.parent}/*.failed.json)"
    assert said[1].startswith("3 runs failed on the data or the settings, and running again repeats it: fix")
    assert said[1].endswith(": data.x: bad (and 1 other problem)")
    assert (
        said[2]
        == "1 run crashed or ran out of memory, which a retry can change: run the same command again to retry them"
    )
    assert len(_failures_said([crashed], 3, count)) == 2 and len(_failures_said([refused], 3, count)) == 2
