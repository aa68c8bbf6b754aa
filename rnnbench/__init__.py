"""rnnbench: compare RNN, GRU and LSTM models from one experiment YAML."""

import sys

__version__ = "0.1.0"


def main() -> None:
    """The `rnnbench` program. Importing the CLI (torch with it) takes seconds; Ctrl-C then is one line, not a
    traceback."""
    try:
        from rnnbench.cli import entry
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        raise SystemExit(130) from None
    entry()
