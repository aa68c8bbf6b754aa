"""rnnbench: compare RNN, GRU and LSTM models from one experiment YAML."""

import sys


def __getattr__(name: str):
    """rnnbench.__version__: written once, in pyproject.toml, and read from the installed package's metadata (when
    asked: importing importlib.metadata would slow `rnnbench --help`); '0+unknown' for a source tree that was never
    installed."""
    if name != "__version__":
        raise AttributeError(f"module 'rnnbench' has no attribute {name!r}")
    from importlib import metadata

    try:
        return metadata.version("rnnbench")
    except metadata.PackageNotFoundError:
        return "0+unknown"


def main() -> None:
    """The `rnnbench` program. Importing the CLI (torch with it) takes seconds; Ctrl-C then is one line, not a
    traceback."""
    try:
        from rnnbench.cli import entry
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        raise SystemExit(130) from None
    entry()
