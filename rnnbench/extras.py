"""The optional parts of rnnbench (pip extras) and the one line that says how to install a missing one.

Each is imported only by the command that uses it, so that `pip install rnnbench` alone runs, compares and
predicts: matplotlib for plots (`compare --plot`, `report`), MLflow and TensorBoard for `export`, Ray for
`run --executor ray`, Optuna for `tune`.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from rnnbench.errors import RnnbenchError

EXTRAS = {  # extra -> module
    "plot": "matplotlib",
    "mlflow": "mlflow",
    "tensorboard": "tensorboard",
    "ray": "ray",
    "tune": "optuna",
}


def require(extra: str, what: str) -> ModuleType:
    """The extra's module, imported; else RnnbenchError naming `what` needs it and the pip command that installs
    it. Example: require("plot", "--plot") -> matplotlib, or
    "--plot: needs matplotlib, which is not installed: pip install 'rnnbench[plot]'"."""
    module = EXTRAS[extra]
    try:
        return importlib.import_module(module)
    except ImportError:
        raise RnnbenchError(
            f"{what}: needs {module}, which is not installed: pip install 'rnnbench[{extra}]'"
        ) from None
