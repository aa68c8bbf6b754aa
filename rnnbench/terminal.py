"""What the command line draws on the terminal: tables within its width, and the progress of runs.

    print_view         a views.Table in blocks of columns that fit, never cutting a cell
    progress           bars on a terminal, plain lines elsewhere (`Lines`)
    progress_printer   run_experiment's events as data reports, progress and notes

Part of the command-line layer: only the cli package calls it, and only it and this module print.
"""

from __future__ import annotations

from collections import Counter

from rich import box
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from rnnbench import views


def print_view(table: views.Table, console: Console) -> None:
    """A table built by a task or a view, drawn within the console's width without cutting a cell: a table too
    wide is drawn in blocks of columns, each repeating the first column (the rows' names), as pandas wraps a wide
    frame; the notes under it as plain lines."""
    for number, columns in enumerate(column_blocks(table, console)):
        title = table.title + (", continued" if number and table.title else "")
        console.print(rich_table(table, columns, title))
    for note in table.notes:  # prose: wrapped at the console's width
        console.print(note, markup=False, highlight=False)


WRAPPED_TEXT = 40  # characters: a text column with a longer line (a list of examples, say) may wrap; others never


def rich_table(table: views.Table, columns: list[int], title: str | None = None) -> Table:
    """The columns `columns` of `table` as a rich table. Numbers and short text never wrap; long text wraps (at
    spaces, else folds) rather than being cut with '…'."""
    drawn = Table(title=escape(title) if title else None, box=box.SIMPLE_HEAD)
    for i in columns:
        wraps = (
            i != 0
            and i not in table.right
            and any(len(line) > WRAPPED_TEXT for row in table.rows for line in row[i].splitlines())
        )
        words = max((len(word) for row in table.rows for word in row[i].split()), default=0)
        header = table.headers[i]
        if table.narrow_headers:
            header = narrow_header(
                header, max((len(line) for row in table.rows for line in row[i].splitlines()), default=0)
            )
        drawn.add_column(
            escape(header),
            justify="right" if i in table.right else "left",
            no_wrap=not wraps,
            overflow="fold",
            max_width=max(WRAPPED_TEXT, words) if wraps else None,
        )
    for n, row in enumerate(table.rows):
        drawn.add_row(
            *(escape(row[i]) for i in columns), style="bold" if table.bold_last and n == len(table.rows) - 1 else None
        )
    return drawn


def narrow_header(header: str, width: int) -> str:
    """A header wider than its column's cells (`width` characters) broken onto two lines, at the space that leaves
    the shorter longest line. Example: ('balanced acc %', 4) -> 'balanced\\nacc %'; ('epochs', 3) -> 'epochs'."""
    spaces = [i for i, character in enumerate(header) if character == " "]
    if len(header) <= width or not spaces:
        return header
    at = min(spaces, key=lambda i: max(i, len(header) - i - 1))
    return header[:at] + "\n" + header[at + 1 :]


def column_blocks(table: views.Table, console: Console) -> list[list[int]]:
    """Column indices per block: as many columns as fit the console's width beside the first, in order, text
    wrapped where it must be. Example: 12 columns at 80 characters -> [[0, 1, ..., 7], [0, 8, ..., 11]]."""
    from rich.measure import Measurement

    def width(columns: list[int]) -> int:  # its numbers and short text whole, its long text wrapped
        unbounded = console.options.update_width(10_000)
        return Measurement.get(console, unbounded, rich_table(table, columns)).maximum

    blocks = [[0]]
    for i in range(1, len(table.headers)):
        if len(blocks[-1]) > 1 and width(blocks[-1] + [i]) > console.width:
            blocks.append([0])
        blocks[-1].append(i)
    return blocks


def progress(err: Console):
    """On a terminal, one bar per run (as many moving at once as runs train at once): its name (wrapped, never
    cut), the bar, the share done, the time (on a wide terminal) and its status (the epoch's loss and validation
    score, then the test score), which is never cut either. Elsewhere (a log, CI, `| tee`), plain lines."""
    from rich.table import Column

    if not err.is_terminal:
        return Lines(err)
    wide = err.width >= 120
    columns = [
        TextColumn("{task.description}", table_column=Column(overflow="fold")),
        BarColumn(bar_width=40 if wide else 8),
        TaskProgressColumn(),
        *([TimeElapsedColumn()] if wide else []),
        TextColumn("{task.fields[status]}", table_column=Column(no_wrap=True)),
    ]
    return Progress(*columns, console=err)


class Lines:
    """Progress where stderr is not a terminal: a line per finished epoch and per finished run, as each happens
    (a progress bar would show nothing until the end). The part of rich's Progress that _progress_printer uses."""

    def __init__(self, console: Console):
        self.console, self.labels, self.totals = console, {}, {}

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        pass

    def add_task(self, description: str, total: int, completed: int = 0, status: str = "") -> int:
        task = len(self.labels)
        self.labels[task], self.totals[task] = description, total
        return task

    def update(self, task: int, completed: int | None = None, total: int | None = None, status: str | None = None):
        if total is not None:
            self.totals[task] = total
        if status:
            done = f" ({completed}/{self.totals[task]})" if completed is not None and status.startswith("epoch") else ""
            self.console.print(f"{self.labels[task]}: {escape(status)}{done}", highlight=False, soft_wrap=True)


def progress_printer(progress: Progress, counts: Counter | None = None):
    """The handler of run_experiment's events: data reports, a progress bar per run, and skipped runs."""
    from rnnbench import config
    from rnnbench.events import (
        DataPrepared,
        EpochFinished,
        RunBusy,
        RunFailed,
        RunFinished,
        RunSkipped,
        RunStarted,
        WorkersStarted,
    )

    tasks, reported_data, seeds_told, notes_told = {}, [], set(), set()
    counts = Counter() if counts is None else counts  # runs trained, skipped as finished, left to another process
    scored_only = set()  # (variant, seed) of the runs with nothing to train: scored once, not trained

    def epoch_status(row: dict, spec) -> str:
        """Example: 'epoch 3 loss 0.212 val 95.0%'; a baseline's 'scored (no training): loss 0.688 val 55.0%'
        (the majority class's own loss) or 'scored (no training)' (a benchmark forecast, which has none)."""
        scores = [f"loss {row['train_loss']:.3f}"] if row["train_loss"] is not None else []
        if row["validation_accuracy"] is not None:
            scores.append(f"val {100 * row['validation_accuracy']:.1f}%")
        elif row["validation_loss"] is not None:
            scores.append(f"val loss {row['validation_loss']:.3f}")
        if (spec.variant, spec.seed) in scored_only:
            return "scored (no training)" + (": " + " ".join(scores) if scores else "")
        return " ".join([f"epoch {row['epoch']}", *scores])

    def show(event):
        match event:
            case DataPrepared(seed=seed, device=device, summary=summary, table=table, threads=threads):
                if table is not None and not reported_data:  # the data report once: every seed's sizes are alike
                    print_view(table, progress.console)
                    reported_data.append(seed)
                    notes_told.update(table.notes)
                if (seed, summary) in seeds_told:  # worker processes each prepare the seeds they train
                    return
                seeds_told.add((seed, summary))
                where = f"device {device}" + (
                    f" ({threads} thread{'' if threads == 1 else 's'})" if device.type == "cpu" and threads else ""
                )
                # what the data table said (the split check, ...) is not repeated; a seed whose checks read
                # otherwise (a leaky split leaks differently on every seed) says its own
                news = [note for note in (table.notes if table is not None else []) if note not in notes_told]
                notes_told.update(news)
                progress.console.print(
                    f"seed {seed}: {summary}" + "".join(f"; {note}" for note in news) + f"; {where}",
                    markup=False,
                    highlight=False,
                    soft_wrap=True,
                )
            case RunStarted(spec=spec, index=i, total=n, parameters=p, resumed=done, trains=trains):
                label = escape(f"[{i}/{n}] {spec.variant} seed {spec.seed} ({p:,} params)")
                status = f"resumed after epoch {done}" if done else ""
                tasks[spec.variant, spec.seed] = progress.add_task(
                    label, total=spec.train.max_epochs if trains else 1, completed=done, status=status
                )
                (scored_only.discard if trains else scored_only.add)((spec.variant, spec.seed))
                if done:
                    counts["resumed"] += 1
                    progress.console.print(
                        f"{spec.variant} seed {spec.seed}: continuing from its checkpoint after "
                        f"epoch {done} of {spec.train.max_epochs}",
                        markup=False,
                        highlight=False,
                        soft_wrap=True,
                    )
            case EpochFinished(spec=spec, row=row):
                progress.update(tasks[spec.variant, spec.seed], completed=row["epoch"], status=epoch_status(row, spec))
            case RunFinished(spec=spec, metrics=m) if m.get("diverged"):
                counts["trained"] += 1
                epoch, reason = m["diverged"]["epoch"], m["diverged"]["reason"]
                progress.update(
                    tasks[spec.variant, spec.seed],
                    total=m["epochs_run"],
                    completed=m["epochs_run"],
                    status=f"diverged in epoch {epoch}",
                )
                progress.console.print(
                    f"[yellow]warning:[/yellow] {escape(spec.variant)} seed {spec.seed}: diverged in "
                    f"epoch {epoch} ({escape(reason)}); stopped, recorded as diverged, not scored",
                    highlight=False,
                    soft_wrap=True,
                )
            case RunFinished(spec=spec, metrics=m):
                counts["trained"] += 1
                task = config.task_of(spec.data)
                column = next((c for c in task.COLUMNS if m.get(c) is not None), task.COLUMNS[0])
                metric = task.METRICS[column]
                value = (
                    "-"
                    if m.get(column) is None
                    else (f"{m[column] * metric.scale:.{metric.digits}f}" + ("%" if metric.scale == 100 else ""))
                )
                progress.update(
                    tasks[spec.variant, spec.seed],
                    total=m["epochs_run"],
                    completed=m["epochs_run"],
                    status=f"{metric.label.removesuffix(' %')} {value} in {m['train_seconds']:.1f}s",
                )
            case WorkersStarted(workers=workers, threads=threads):
                progress.console.print(
                    f"{workers} worker process{'' if workers == 1 else 'es'}, {threads} "
                    f"thread{'' if threads == 1 else 's'} each",
                    markup=False,
                    highlight=False,
                )
            case RunFailed(spec=spec, error=error):
                counts["failed"] += 1
                if (spec.variant, spec.seed) in tasks:
                    progress.update(tasks[spec.variant, spec.seed], status="failed")
                progress.console.print(
                    f"[red]failed:[/red] {escape(spec.variant)} seed {spec.seed}: {escape(error)}",
                    highlight=False,
                    soft_wrap=True,
                )
            case RunBusy(spec=spec):
                counts["busy"] += 1
                progress.console.print(
                    f"{spec.variant} seed {spec.seed}: being trained by another rnnbench process; left to it",
                    markup=False,
                    highlight=False,
                    soft_wrap=True,
                )
            case RunSkipped(spec=spec, path=path):
                counts["skipped"] += 1
                progress.console.print(
                    f"{spec.variant} seed {spec.seed}: already finished in {path}, skipped",
                    markup=False,
                    highlight=False,
                    soft_wrap=True,
                )

    return show
