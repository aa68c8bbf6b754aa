"""The `rnnbench` program, also as `python -m rnnbench`."""

import sys


def main() -> None:
    """Run the CLI. Importing it (torch with it, for some commands) takes a moment; Ctrl-C then is one line, not a
    traceback."""
    try:
        from rnnbench.cli import entry
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        raise SystemExit(130) from None
    entry()


if __name__ == "__main__":
    main()
