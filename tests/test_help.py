"""Help that says what each option means, on an 80-column terminal: every option has help text, no text is cut
to '…', and a flag (which takes no value) shows none."""

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
    """`rnnbench --help` answers at once: commands import what they use when they run."""
    code = ("import sys; sys.argv = ['rnnbench', '--help']\nfrom rnnbench.cli import entry\ntry:\n    entry()\n"
            "except SystemExit:\n    pass\nprint(sorted({'torch', 'pandas', 'scipy'} & set(sys.modules)))")  # fmt: skip
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "[]"


def test_compare_metric_help_lists_what_compare_takes():
    from rnnbench import cli, compare

    assert cli.COMPARABLE == compare.COMPARABLE
