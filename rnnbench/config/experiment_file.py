"""Reading what the user wrote: an experiment file (as YAML 1.2: see yamlfile.py) with its `--set key=value`
overrides applied to the raw mapping before validation, so that they fail the same way; a mapping; a task's data
settings given as command-line options. Every problem is reported at once, as a ConfigError of lines.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import ValidationError

from rnnbench import yamlfile
from rnnbench.config.checks import (
    data_override_problems,
    data_read_as_closest,
    raw_override_problems,
    task_problems,
    tune_problems,
    validation_problem,
)
from rnnbench.config.messages import closest_path, describe
from rnnbench.config.schema import Experiment
from rnnbench.config.variants import distinct_data
from rnnbench.errors import ConfigError
from rnnbench.tasks import TASKS
from rnnbench.yamlfile import Written

MAX_FILE_BYTES = 1_000_000  # an experiment file is a few kilobytes; anything larger is not one


def load(path: Path, overrides: list[str] = ()) -> Experiment:
    """Read, override and validate an experiment file; raise ConfigError listing every problem."""
    path = Path(path)
    try:
        with path.open("rb") as file:
            content = file.read(MAX_FILE_BYTES + 1)
        text = content.decode("utf-8")
    except FileNotFoundError:
        raise ConfigError(str(path), ["no such file" + closest_path(path, is_yaml)]) from None
    except UnicodeDecodeError as err:
        raise ConfigError(
            str(path), [f"cannot read: not UTF-8 text (byte {content[err.start]:#04x} at position {err.start})"]
        ) from None
    except OSError as err:
        raise ConfigError(str(path), [f"cannot read: {err.strerror or err}"]) from None
    if len(content) > MAX_FILE_BYTES:
        raise ConfigError(str(path), [f"is over {MAX_FILE_BYTES:,} bytes; an experiment file is a few kilobytes"])
    try:
        raw, written = yamlfile.read(text)
    except yamlfile.Problems as err:
        raise ConfigError(str(path), err.problems) from None
    if not isinstance(raw, dict):
        raise ConfigError(str(path), ["expected a mapping of fields (name, data, model, ...) at the top level"])
    problems = []
    for override in overrides:
        try:
            apply_override(raw, override, written)
        except ValueError as err:
            shown = override if len(override) <= 60 else override[:57] + "..."
            problems.append(f"--set {shown}: {err}")
    if problems:
        raise ConfigError(str(path), problems)
    return validate(raw, source=str(path), written=written)


def is_yaml(path: Path) -> bool:
    """A file an experiment file could be. Example: experiments/names_de_it.yaml -> True."""
    return path.suffix.lower() in (".yaml", ".yml") and path.is_file()


def validate(raw: dict, source: str = "experiment", written: dict[tuple, Written] | None = None) -> Experiment:
    """The experiment `raw` describes; `written` (from yamlfile.read) lets errors quote values as written."""
    try:
        experiment = Experiment.model_validate(raw)
    except ValidationError as err:
        problems = [describe(e, written) for e in err.errors()]
        problems += data_read_as_closest(raw, err, written) + raw_override_problems(raw, written)
        raise ConfigError(source, problems) from None
    problems = data_override_problems(experiment, written) + tune_problems(experiment)
    if problems:
        raise ConfigError(source, problems)
    try:
        variants = experiment.resolved_variants()
        for data in distinct_data(variants):  # each data setting a variant sets is checked as the experiment's is
            found = task_problems(data, {name: s.model for name, s in variants.items() if s.data == data})
            problems += [problem for problem in found if problem not in problems]
    except ValueError as err:
        problems += str(err).splitlines()
        variants = {}
    for name, (_, train, data) in [("", (None, experiment.train, experiment.data)), *variants.items()]:
        problem = validation_problem(name, train, data)
        if problem is not None:  # one line says it: the others would repeat it for each variant
            problems.append(problem)
            break
    if problems:
        raise ConfigError(source, problems)
    return experiment


def data_options(dataset: str, fields: dict):
    """A task's data settings given as command-line options (`rnnbench data names`), validated like a file's;
    the problems name the options. Fields given as None keep their defaults."""
    try:
        return TASKS[dataset].Data.model_validate({key: value for key, value in fields.items() if value is not None})
    except ValidationError as err:
        problems = []
        for error in err.errors():
            option = "--" + str(error["loc"][0]).replace("_", "-")
            problems.append(option + ":" + describe({**error, "loc": ("data", *error["loc"])}).split(":", 1)[1])
        raise ConfigError(f"data {dataset}", problems) from None


def apply_override(raw: dict, assignment: str, written: dict[tuple, Written] | None = None) -> None:
    """Set one dotted field in the raw mapping, the value read as YAML 1.2 like the file, and record its text
    in `written` (replacing what the file wrote there). Example: 'train.max_epochs=2', 'grid.cell=[gru, lstm]'."""
    key, sep, text = assignment.partition("=")
    key = key.strip()
    if not sep or not key:
        raise ValueError("expected KEY=VALUE, for example train.max_epochs=2")
    try:
        value, texts = yamlfile.read(text)
    except yamlfile.Problems as err:
        if not err.syntax:  # a duplicate key, a tag, an alias bomb: refused as in a file
            raise ValueError("; ".join(err.problems)) from None
        value, texts = text.strip(), {(): Written(text.strip(), None)}  # not YAML: the text as it is
    node = raw
    parts = [part.strip() for part in key.split(".")]
    if len(parts) > yamlfile.MAX_DEPTH:
        raise ValueError(f"nested more than {yamlfile.MAX_DEPTH} levels deep")
    target = []
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        if isinstance(node, list):
            if not part.isdigit() or int(part) >= len(node):
                raise ValueError(f"'{'.'.join(parts[: i + 1])}' is not an index of a list of {len(node)}")
            part = int(part)
        elif not isinstance(node, dict):
            raise ValueError(f"'{'.'.join(parts[:i])}' is not a mapping")
        target.append(part)
        if last:
            node[part] = value
        else:
            if isinstance(node, dict) and not isinstance(node.get(part), (dict, list)):
                node[part] = {}
            node = node[part]
    if written is not None:
        target = tuple(target)
        for path in [path for path in written if path[: len(target)] == target or target[: len(path)] == path]:
            del written[path]  # what the file wrote there, or at a scalar the override turned into a mapping
        written.update({target + path: Written(where.text, None) for path, where in texts.items()})
