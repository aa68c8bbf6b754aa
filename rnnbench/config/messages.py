"""Pydantic's errors as rnnbench's error lines: 'field.path: what is wrong (got value)', the value quoted as it was
written, valid choices listed and the closest one guessed where there are some; and the same guess for a path
that does not exist (an experiment file, a run directory)."""

from __future__ import annotations

import difflib
import glob
import os
import re
import types
import typing
from collections.abc import Callable
from pathlib import Path

from pydantic import BaseModel

from rnnbench import yamlfile
from rnnbench.config.schema import Experiment
from rnnbench.fields import Train
from rnnbench.tasks import TASKS
from rnnbench.yamlfile import Written

DATASET_CUTOFF = 0.6  # 'cvs' and 'scv' mean csv


def field_path(location: tuple) -> str:
    """Example: ('grid', 'cell', 1) -> 'grid.cell[1]'; ('data', 'reversal', 'samples') -> 'data.samples'."""
    return yamlfile.dotted(_schema_path(location))


def _schema_path(location: tuple) -> tuple:
    """A pydantic error location as the file's key path: without the task tag that picks the `data:` schema."""
    if location[:1] == ("data",) and location[1:2] and location[1] in TASKS:
        return location[:1] + location[2:]
    return location


def describe(error: dict, written: dict[tuple, Written] | None = None) -> str:
    """One pydantic error -> 'field.path: what is wrong (got value)', listing valid choices where there are some.
    The value is quoted as `written` says it was written (`on`, not what a reader made of it), else as it is; a
    value a `--set` override wrote says so ('; set by --set'), since the line names the experiment file."""
    text, origin = _describe(error, written), _origin(_schema_path(error["loc"]), written)
    head, guess, rest = text.partition("; did you mean ")  # the origin before the guess, which ends the line
    return head + origin + guess + rest


def _origin(path: tuple, written: dict[tuple, Written] | None) -> str:
    """'; set by --set' for a value a command-line override wrote (it has no line in the file), else ''."""
    where = (written or {}).get(path)
    return "; set by --set" if where is not None and where.line is None else ""


def _describe(error: dict, written: dict[tuple, Written] | None) -> str:
    path = field_path(error["loc"])
    if error["type"] == "extra_forbidden":
        section, field = error["loc"][0], str(error["loc"][-1])
        data_fields = {name for task in TASKS.values() for name in task.INPUT_FIELDS}
        if section in ("grid", "variants") and len(error["loc"]) <= 3 and field in {*Train.model_fields, *data_fields}:
            part = "train" if field in Train.model_fields else "data"
            example = (
                f"{{{part}: {{{field}: [...]}}}}" if section == "grid" else f"[{{cell: gru, {part}: {{{field}: ...}}}}]"
            )
            return f"{path}: a {part} field; write it under {part}: ({section}: {example})"
        valid = _fields_of(error["loc"][:-1])
        guess = closest(str(error["loc"][-1]), valid)
        return (
            f"{path}: unknown field"
            + (f"; did you mean {guess}?" if guess else "")
            + (f"{'' if guess else ';'} valid fields: {', '.join(valid)}" if valid else "")
        )
    if error["type"] == "missing":
        return f"{path}: required field is missing"
    if error["type"] == "unknown_dataset":
        got = error["input"].get("dataset") if isinstance(error["input"], dict) else error["input"]
        where = _schema_path(error["loc"]) + ("dataset",)
        guess = closest(got, list(TASKS), DATASET_CUTOFF) if isinstance(got, str) else None
        return f"{path}.dataset: is not one of {', '.join(TASKS)} (got {shown_value(got, where, written)})" + (
            f"; did you mean {guess}?" if guess else ""
        )
    message = re.sub(r" or instance of \w+", "", error["msg"].removeprefix("Value error, "))
    message = message[0].lower() + message[1:]
    guess = None
    if error["type"] == "literal_error":
        expected = error.get("ctx", {}).get("expected", "")
        message = f"is not one of {expected.replace(' or ', ', ')}".replace("'", "")
        choices = [choice.strip() for choice in expected.replace(" or ", ", ").replace("'", "").split(",")]
        guess = closest(str(error["input"]), choices) if isinstance(error["input"], str) else None
    return f"{path}: {message} (got {shown_value(error['input'], _schema_path(error['loc']), written)})" + (
        f"; did you mean {guess}?" if guess else ""
    )


def closest(word: str, choices: list[str], cutoff: float = 0.75) -> str | None:
    """The valid name a typo most likely meant. Example: ('hiden_size', [..., 'hidden_size', ...]) -> 'hidden_size';
    ('lstmm', ['rnn', 'gru', 'lstm']) -> 'lstm'; nothing close -> None. Short names (a dataset: 'cvs' for csv)
    take a lower `cutoff`: two letters swapped in three are a third of the word."""
    found = difflib.get_close_matches(word, choices, n=1, cutoff=cutoff) or difflib.get_close_matches(
        word.lower(), [choice.lower() for choice in choices], n=1, cutoff=cutoff
    )
    if not found:
        return None
    return next((choice for choice in choices if choice.lower() == found[0].lower()), found[0])


def closest_path(path: Path, wanted: Callable[[Path], bool] = Path.exists) -> str:
    """What to say after '<path>: no such ...': '; did you mean X?' with X the existing path nearest to `path`, else
    '; closest: X, Y, Z' (the nearest names where the path stops existing, with the rest of it where that
    exists), else ''. `wanted` says which existing paths can be meant (a file's suffix, a folder).

    Each part that does not exist is replaced by the name beside it that it most likely meant (closest(); else the
    one that shares the longest beginning with it, if that is half of it: a run's variant, its key mistyped; else
    the only one), unless the path's last name is found without it (here, or one folder down).
    Examples: 'experiments/names_de_ti.yaml' -> '; did you mean experiments/names_de_it.yaml?';
    'names_de_it.yaml' given beside experiments/ -> '; did you mean experiments/names_de_it.yaml?';
    'results/names_de_it/gru-uni-1x64-KEY/seed-0' -> '; did you mean results/names_de_it/gru-uni-1x64-33d36dc6/seed-0?'.
    """
    path = Path(path)
    parts = path.parts[1:] if path.anchor else path.parts
    here = Path(path.anchor) if path.anchor else Path()
    for index, part in enumerate(parts):
        last = index == len(parts) - 1
        if not last and (here / part).is_dir():
            here = here / part
            continue
        try:
            names = [
                entry.name
                for entry in here.iterdir()
                if (part.startswith(".") or not entry.name.startswith("."))
                and (wanted(entry) if last else entry.is_dir())
            ]
        except OSError:
            return ""
        guess = closest(part, names) or _same_beginning(part, names)
        if guess is None:  # the last name itself, without this part (here), or one folder down?
            name = glob.escape(parts[-1])
            found = sorted(found for found in here.glob(f"*/{name}" if last else name) if wanted(found))
            if found:
                return f"; did you mean {found[0]}?"
            guess = names[0] if len(names) == 1 else None
        if guess is None:
            rest = Path(*parts[index + 1 :])
            nearest = sorted(names, key=lambda name: _likeness(part, name), reverse=True)[:3]
            shown = [here / name / rest if (here / name / rest).exists() else here / name for name in nearest]
            return f"; closest: {', '.join(map(str, shown))}" if shown else ""
        here = here / guess
    return f"; did you mean {here}?" if here != path and wanted(here) else ""


def _likeness(word: str, name: str) -> tuple[int, float]:
    """How alike a name is to what was typed: the length of the beginning they share, then difflib's ratio."""
    word, name = word.lower(), name.lower()
    return len(os.path.commonprefix([word, name])), difflib.SequenceMatcher(None, word, name).ratio()


def _same_beginning(word: str, names: list[str]) -> str | None:
    """The one name sharing the longest beginning with `word`, if that is at least half of it. Example:
    ('gru-uni-1x64-KEY', ['gru-uni-1x64-33d36dc6', 'gru-bi-1x64-81844ab7']) -> 'gru-uni-1x64-33d36dc6'."""
    shared = {name: _likeness(word, name)[0] for name in names}
    longest = max(shared.values(), default=0)
    best = [name for name, length in shared.items() if length == longest]
    return best[0] if len(best) == 1 and 2 * longest >= len(word) else None


def shown_value(value, path: tuple, written: dict[tuple, Written] | None, limit: int = 60) -> str:
    """A refused value for an error line: text quoted, anything else as written, cut to `limit` characters.

    Examples: 'on' -> "'on'"; True written as `true` -> 'true'; 100000.0 written as `1e5` -> '1e5'.
    """
    where = (written or {}).get(path)
    if where is None or isinstance(value, (dict, list)):
        shown = repr(value)
    else:
        shown = repr(where.text) if isinstance(value, str) else where.text or "nothing"
    return shown if len(shown) <= limit else shown[: limit - 3] + "..."


def _fields_of(location: tuple) -> list[str]:
    """The field names of the schema object at `location` (walking through lists and optionals)."""
    annotation = Experiment
    if location[:1] == ("data",) and location[1:2] and location[1] in TASKS:  # a tagged union: that member
        annotation, location = TASKS[location[1]].Data, location[2:]
    for part in location:
        annotation = _unwrap(annotation)
        if isinstance(part, int):
            continue
        if (
            not (isinstance(annotation, type) and issubclass(annotation, BaseModel))
            or part not in annotation.model_fields
        ):
            return []
        annotation = annotation.model_fields[part].annotation
    annotation = _unwrap(annotation)
    return list(annotation.model_fields) if isinstance(annotation, type) and issubclass(annotation, BaseModel) else []


def _unwrap(annotation):
    """list[X] -> X, X | None -> X."""
    while True:
        origin = typing.get_origin(annotation)
        if origin in (list, tuple):
            annotation = typing.get_args(annotation)[0]
        elif origin in (typing.Union, types.UnionType):
            annotation = next(a for a in typing.get_args(annotation) if a is not type(None))
        else:
            return annotation
