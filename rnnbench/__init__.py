"""rnnbench: compare RNN, GRU and LSTM models from one experiment YAML. The program is rnnbench.__main__.

Nothing inside the package imports this module's names: they are for users (rnnbench.__version__) and for the
console scripts of installs made before the program moved to rnnbench.__main__ (they call rnnbench.main).
"""


def __getattr__(name: str):
    """rnnbench.__version__ (see rnnbench.version) and rnnbench.main, both read when asked."""
    if name == "__version__":
        from rnnbench.version import version

        return version()
    if name == "main":
        from rnnbench.__main__ import main

        return main
    raise AttributeError(f"module 'rnnbench' has no attribute {name!r}")
