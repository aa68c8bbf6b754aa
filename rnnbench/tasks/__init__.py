"""The tasks rnnbench knows, each one module: its `data:` schema, its data, its models, its scores, its tables
and what `predict` answers. A new task is a new module and one line here; nothing outside rnnbench/tasks/ (and
the data modules) knows a task by name.

What a task module provides (names.py reads as the example):
    Data                 the pydantic schema of its `data:` section, discriminated on `dataset`
    ARCHITECTURES        the model architectures it accepts, its default first
    BASELINES            the baseline cells it can score (cells that read nothing but their data)
    SCORED_BESIDE        (optional) baselines added to every experiment of the task as variants
    INPUT_FIELDS         {data field: how it shows in a variant name}: the data fields a grid or a variant can
                         set, because they change how examples are read, never which examples each split holds
    canonical(model)     the model with the task's defaults made explicit (so that keys do not drift)
    problems(data, variants) -> list[str]      what its data settings rule out, one line each
    load(data, data_dir, on_download) -> (source, note)   read or locate what it learns from, once per experiment
    fingerprint(data, source) -> dict   what a finished run must have recorded (in its data sizes) to be reused:
                         a file's SHA-256, how generated data was drawn; a key not recorded is not the same
    prepare(data, source, seed, device) -> Prepared       one seed's splits as tensors: .tensors, .sizes, .report
    build(model, prepared) -> (architecture, arguments)   a variant's constructor arguments; MODELS builds them
    validator(prepared) -> score(model, split) -> (accuracy or None, loss)   what each epoch measures
    WATCH                (history key, "max" or "min"): what early stopping watches, and its direction
    RANK                 (optional) (score, "max" or "min") `predict` ranks runs by, if not the watched one
    score(model, prepared, spec) -> (metrics, files)   a finished model's scores and the files beside them
    METRICS, COLUMNS     how its scores read in tables, and which its tables show (the first is compared)
    model_info(prepared, data) -> dict                  what predict needs beside the weights
    predictor(state_dict, info, where) -> .predict(texts, top_k, where)   answers from a run (a predictor with
                         `one_series = True` reads all its texts as one series, or none: a forecast after the series)
    describe, data_table, describe_model, show_tables, report_sections, plots, candidates: its words and tables
"""

from rnnbench.tasks import names, reversal, series, text

TASKS = {"names": names, "reversal": reversal, "csv": text, "series": series}
