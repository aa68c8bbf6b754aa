"""rnnbench: compare RNN, GRU and LSTM models from one experiment YAML."""

import sys
from importlib import metadata

try:  # the version is written once, in pyproject.toml, and read from the installed package's metadata
    __version__ = metadata.version("rnnbench")
except metadata.PackageNotFoundError:  # a source tree on sys.path that was never installed
    __version__ = "0+unknown"


def main() -> None:
    """The `rnnbench` program. Importing the CLI (torch with it) takes seconds; Ctrl-C then is one line, not a
    traceback."""
    try:
        from rnnbench.cli import entry
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        raise SystemExit(130) from None
    entry()
