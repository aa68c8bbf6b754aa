"""The one exception type the CLI catches and turns into a one-line message and a non-zero exit."""

from contextlib import contextmanager
from pathlib import Path


class RnnbenchError(Exception):
    """A problem the user can fix: bad input, a missing file, a corrupted run. Never a bug."""

    exit_code = 1


class ConfigError(RnnbenchError):
    """An experiment file that does not validate. Carries every problem found, one line each."""

    exit_code = 2

    def __init__(self, source: str, problems: list[str]):
        self.source = source
        self.problems = problems
        super().__init__("\n".join(f"{source}: {p}" for p in problems))


class UsageError(RnnbenchError):
    """A command-line option with a value the command cannot use (exit status 2, like other usage errors)."""

    exit_code = 2


@contextmanager
def describing_weights(where):
    """Turn a model.json that does not fit the weights beside it (a missing key, a wrong shape) into one line
    naming the file, as every task's predictor rebuilds its model inside this block."""
    try:
        yield
    except (KeyError, TypeError, ValueError, RuntimeError) as err:
        first_line = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise RnnbenchError(f"{where}: does not describe the weights beside it ({first_line})") from None


def load_weights(model, state_dict: dict, where: Path) -> None:
    """Load a run's weights into the model its model.json (`where`) describes, or raise one line naming both files
    and the first tensor that does not fit: one missing, one extra, or one of another shape."""
    weights = where.parent / "model.safetensors"
    expected = model.state_dict()
    for name, tensor in expected.items():
        if name not in state_dict:
            raise RnnbenchError(f"{where}: does not describe the weights beside it: {weights} has no tensor {name!r}")
        if tuple(state_dict[name].shape) != tuple(tensor.shape):
            raise RnnbenchError(
                f"{where}: does not describe the weights beside it: tensor {name!r} in {weights} has "
                f"shape {tuple(state_dict[name].shape)}, the model expects {tuple(tensor.shape)}"
            )
    extra = [name for name in state_dict if name not in expected]
    if extra:
        raise RnnbenchError(
            f"{where}: does not describe the weights beside it: {weights} has tensor {extra[0]!r}, "
            "which the model it describes does not"
        )
    model.load_state_dict(state_dict)
