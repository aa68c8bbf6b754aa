"""rnnbench's version: written once, in pyproject.toml, and read from the installed package's metadata (when asked:
importing importlib.metadata at start-up would slow `rnnbench --help`)."""

from importlib import metadata


def version() -> str:
    """The installed rnnbench's version, or '0+unknown' for a source tree that was never installed.
    Example: '0.1.0'."""
    try:
        return metadata.version("rnnbench")
    except metadata.PackageNotFoundError:
        return "0+unknown"
