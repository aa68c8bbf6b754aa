"""The tasks rnnbench knows, each one module: its `data:` schema, its data, its models, its scores, its tables
and what `predict` answers. A new task is a new module and one line here; nothing outside rnnbench/tasks/ (and
the data modules) knows a task by name.

What a task module provides is written down once, as a typing.Protocol: rnnbench/tasks/contract.py (a test
checks every module registered here against it). names.py reads as the example; classification.py (with
classification_views.py), regression.py, forecasting.py and sequences.py hold what tasks of one kind share.
"""

from rnnbench.tasks import adding, copying, names, reversal, series, text

TASKS = {
    "names": names,
    "reversal": reversal,
    "csv": text,
    "series": series,
    "adding": adding,
    "copy": copying,
}
