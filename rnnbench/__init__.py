"""rnnbench: compare RNN, GRU and LSTM models from one experiment YAML. The program is rnnbench.__main__."""


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
