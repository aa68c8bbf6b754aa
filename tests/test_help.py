"""Help that says what each option means, on an 80-column terminal: every option has help text, no text is cut
to '…', and a flag (which takes no value) shows none."""

import os
import subprocess
import sys

import pytest
import typer.main
from typer.testing import CliRunner

from rnnbench.cli import app

runner = CliRunner()


def _commands(command, path=()):
    yield path, command
    for name, sub in getattr(command, "commands", {}).items():
        yield from _commands(sub, (*path, name))


COMMANDS = list(_commands(typer.main.get_command(app)))


def test_every_command_is_walked():
    assert {" ".join(path) for path, _ in COMMANDS} >= {"", "run", "predict", "compare", "data names", "show"}


@pytest.mark.parametrize("path, command", COMMANDS, ids=[" ".join(path) or "rnnbench" for path, _ in COMMANDS])
def test_help_fits_80_columns_and_every_option_says_what_it_does(path, command):
    options = [param for param in command.params if param.param_type_name == "option"]
    assert all(param.help for param in options), [param.name for param in options if not param.help]
    result = runner.invoke(app, [*path, "--help"], env={"COLUMNS": "80", "TERMINAL_WIDTH": "80"})
    assert result.exit_code == 0, result.output
    assert "…" not in result.output and "<bool>" not in result.output, result.output
    assert max(map(len, result.output.splitlines())) <= 80
    for param in options:
        assert param.opts[0] in result.output  # every option listed, its name whole


def test_help_imports_neither_torch_nor_pandas_nor_scipy():
    """`rnnbench --help` answers at once: commands import what they use when they run (the extras too)."""
    code = (
        "import sys; sys.argv = ['rnnbench', '--help']\nfrom rnnbench.cli import entry\ntry:\n    entry()\n"
        "except SystemExit:\n    pass\n"
        "print(sorted({'torch', 'pandas', 'scipy', 'matplotlib', 'mlflow', 'tensorboard', 'ray'} & set(sys.modules)))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "[]"


def test_choices_listed_without_importing_the_code_behind_them_mirror_it():
    """--help lists these choices without importing what takes them (torch, pandas): the enums mirror it."""
    from typing import get_args

    from rnnbench import compare, sweep
    from rnnbench.cli import options
    from rnnbench.tasks import names

    assert [f.value for f in options.CompareFormat] == ["table", *compare.RENDERERS]
    assert tuple(f.value for f in options.Executor) == sweep.EXECUTORS
    fields = names.Data.model_fields
    assert tuple(f.value for f in options.MultiLanguage) == get_args(fields["multi_language"].annotation)
    assert tuple(f.value for f in options.Split) == get_args(fields["split"].annotation)


def test_an_unknown_metric_lists_every_comparable_name():
    """--metric's names are read from the tasks (compare.COMPARABLE) only when a value is checked: all of them."""
    from rnnbench import compare

    wrong = runner.invoke(app, ["compare", "--metric", "speed"], env={"COLUMNS": "200"})
    said = " ".join(wrong.output.replace("│", " ").split())  # the error's box, unwrapped
    listed = ", ".join(map(repr, compare.COMPARABLE))
    assert (
        wrong.exit_code == 2 and f"Invalid value for '--metric': Value error, 'speed' is not one of {listed}." in said
    )


@pytest.mark.parametrize("path, command", COMMANDS, ids=[" ".join(path) or "rnnbench" for path, _ in COMMANDS])
def test_h_is_help_everywhere(path, command):
    short, long = (runner.invoke(app, [*path, flag], env={"COLUMNS": "80"}) for flag in ("-h", "--help"))
    assert short.exit_code == 0 and short.output == long.output


def test_choices_are_listed_in_help_and_checked():
    """Choices are enums: help lists them, completion offers them, and any other value is a usage error (2)."""
    for path, listed in (
        (["compare"], "<table|markdown|csv|json>"),
        (["predict"], "<table|csv|json>"),
        (["run"], "<local|ray>"),
        (["data", "names"], "<drop|keep>"),
        (["data", "names"], "<by_name|leaky>"),
        (["validate"], "<table|json>"),
        (["export", "mlflow"], "<table|json>"),
    ):
        assert listed in runner.invoke(app, [*path, "--help"], env={"COLUMNS": "200"}).output, (path, listed)
    extras = runner.invoke(app, ["export", "--help"], env={"COLUMNS": "200"}).output
    assert "rnnbench[mlflow]" in extras and "rnnbench[tensorboard]" in extras  # not eaten as markup
    wrong = runner.invoke(app, ["compare", "--format", "xml"], env={"COLUMNS": "200"})
    said = " ".join(wrong.output.replace("│", " ").split())  # the error's box, unwrapped
    assert wrong.exit_code == 2 and "'xml' is not one of 'table', 'markdown', 'csv', 'json'" in said, said
    assert runner.invoke(app, ["compare", "--metric", "speed"]).exit_code == 2


def test_shell_completion_installs_and_completes_choices():
    """--install-completion / --show-completion exist, and the completion script's answers are the enums' values."""
    assert "--install-completion" in runner.invoke(app, ["--help"], env={"COLUMNS": "200"}).output
    # the script --show-completion prints, asked for bash by name: --show-completion itself names no shell (it
    # detects the one it runs under, and a test run started by no shell, as from a scheduler, has none)
    script = subprocess.run(
        [sys.executable, "-m", "rnnbench"],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "_RNNBENCH_COMPLETE": "source_bash"},
    )
    assert script.returncode == 0 and "_RNNBENCH_COMPLETE=complete_bash" in script.stdout, script.stderr

    def complete(words: str) -> list[str]:
        env = {
            **os.environ,
            "_RNNBENCH_COMPLETE": "complete_bash",
            "COMP_WORDS": words,
            "COMP_CWORD": str(len(words.split(" ")) - 1),
        }
        done = subprocess.run([sys.executable, "-m", "rnnbench"], env=env, capture_output=True, text=True, timeout=60)
        return done.stdout.split()

    assert complete("rnnbench compare --format ") == ["table", "markdown", "csv", "json"]
    assert complete("rnnbench run --executor ") == ["local", "ray"]
    from rnnbench.compare import COMPARABLE

    assert complete("rnnbench compare --metric ") == list(COMPARABLE)  # read from the tasks when asked
    assert complete("rnnbench compare --metric test_r") == [name for name in COMPARABLE if name.startswith("test_r")]
    assert "export" in complete("rnnbench ex")
