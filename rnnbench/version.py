"""rnnbench's version: written once, in pyproject.toml, and read from the installed package's metadata when asked
(importlib.metadata is imported then, not at start-up: it would slow `rnnbench --help` by a tenth)."""


def version() -> str:
    """The installed rnnbench's version, or '0+unknown' for a source tree that was never installed.
    Example: '0.1.0'."""
    from importlib import metadata

    try:
        return metadata.version("rnnbench")
    except metadata.PackageNotFoundError:
        return "0+unknown"
