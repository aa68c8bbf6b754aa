"""Answer from a trained names model: rebuild it from its run directory alone, then rank languages for names."""

from __future__ import annotations

from pathlib import Path

import torch

from rnnbench import models, rundir, sequence_models
from rnnbench.data.names import clean
from rnnbench.data.vocab import Vocab
from rnnbench.errors import RnnbenchError

MAX_NAME_LENGTH = 100

def best_run(results: Path, experiment: str | None = None) -> tuple[Path, str]:
    """The finished run to answer from, and a line saying why it was chosen: a names run, or the best reversal
    run of an `experiment` that has no names runs.

    The highest validation accuracy wins (ties: the first by path), but only among the runs that know the most
    languages: a German-vs-Italian model scores higher than an 18-language one on an easier question, and
    would otherwise answer every name with one of two languages. Runs on a leaky split are passed over when any
    other run can answer: their validation scores are inflated by the leak.
    """
    runs, _ = rundir.find_runs(results)
    chosen = [run for run in runs if experiment is None or run.config["experiment"] == experiment]
    candidates = [run for run in chosen if run.metrics["task"] == "names"]
    sequences = [run for run in chosen if run.metrics["task"] == "reversal"]
    if not candidates and experiment is not None and sequences:
        best = max(sequences, key=lambda run: run.metrics["validation_accuracy"] or 0.0)
        accuracy = best.metrics["validation_accuracy"]
        shown = f"{100 * accuracy:.1f}%" if accuracy is not None else "none: these runs have no validation split"
        return best.path, f"best validation exact accuracy ({shown}) of {len(sequences)} reversal runs"
    if not candidates:
        where = f"{results}: no finished names run" + (f" of experiment '{experiment}'" if experiment else "")
        raise RnnbenchError(f"{where}; train one with `rnnbench run EXPERIMENT.yaml` or pass --run DIR")
    # a leaky split's validation score is inflated by the very leak it measures: such runs answer only when asked
    honest = [run for run in candidates if run.config["data"].get("split") not in ("leaky", "random")]
    leaky = len(candidates) - len(honest)
    candidates = honest or candidates
    most = max(len(run.metrics["data"]["labels"]) for run in candidates)
    widest = [run for run in candidates if len(run.metrics["data"]["labels"]) == most]
    best = max(widest, key=lambda run: run.metrics["validation_accuracy"] or 0.0)  # None: a run without validation
    accuracy = best.metrics["validation_accuracy"]
    shown = f"{100 * accuracy:.1f}%" if accuracy is not None else "none: these runs have no validation split"
    why = f"best validation accuracy ({shown}) of {len(widest)} runs with {most} languages"
    if len(widest) < len(candidates):
        why += f"; {len(candidates) - len(widest)} runs with fewer languages passed over (choose with --experiment or --run)"
    if leaky and honest:
        why += f"; {leaky} runs on a leaky split passed over"
    return best.path, why


class Predictor:
    def __init__(self, model: torch.nn.Module, vocab: Vocab, labels: list[str], preprocessing: dict):
        self.model = model.eval()
        self.vocab = vocab
        self.labels = labels
        self.preprocessing = preprocessing

    @classmethod
    def from_run(cls, path: Path) -> Predictor | SequencePredictor:
        """The predictor for the run's task: a names classifier, or a reversal model."""
        state_dict, info = rundir.load_model_files(path)
        where = Path(path) / "model.json"
        if info.get("task") == "reversal":
            return SequencePredictor.from_files(state_dict, info, where)
        if info.get("architecture") not in models.ARCHITECTURES:
            raise RnnbenchError(f"{where}: architecture {info.get('architecture')!r} is not a names classifier")
        try:
            model = models.build(info["architecture"], info["arguments"])
            model.load_state_dict(state_dict)
            vocab, labels = Vocab(tuple(info["vocab"])), list(info["labels"])
            preprocessing = dict(info["preprocessing"])
        except (KeyError, TypeError, ValueError, RuntimeError) as err:
            first_line = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
            raise RnnbenchError(f"{where}: does not describe the weights beside it ({first_line})") from None
        with torch.no_grad():
            classes = model.eval()(*vocab.encode(["a"]))[0].shape[-1]
        if len(labels) != classes:
            raise RnnbenchError(f"{where}: {len(labels)} labels for a model of {classes} classes")
        return cls(model, vocab, labels, preprocessing)

    @torch.no_grad()
    def predict(self, texts: list[str], top_k: int = 3) -> list[dict]:
        """Example: ['Tribbiani'] -> [{'input': 'Tribbiani', 'predictions': [{'label': 'Italian', 'probability': 0.99}, …]}]"""
        cleaned = [clean(text, **self.preprocessing) for text in texts]
        for position, (text, name) in enumerate(zip(texts, cleaned), start=1):
            if not name:
                raise RnnbenchError(f"name {position} ({text!r}): empty after trimming whitespace; give a surname")
            if len(name) > MAX_NAME_LENGTH:
                raise RnnbenchError(f"name {position}: {len(name)} characters; surnames longer than {MAX_NAME_LENGTH} are refused")
        tokens, lengths = self.vocab.encode(cleaned)
        probabilities = models.probabilities(self.model, tokens, lengths)
        top = probabilities.topk(min(top_k, len(self.labels)), dim=-1)
        answers = [
            {"input": text,
             "predictions": [{"label": self.labels[i], "probability": p} for p, i in zip(values.tolist(), indices.tolist())]}
            for text, values, indices in zip(texts, top.values, top.indices)
        ]  # fmt: skip
        known = set(self.vocab.chars)
        for answer, name in zip(answers, cleaned):
            unseen = sorted(set(name) - known)
            if unseen:  # the model reads each of them as one "unknown character": the answer means less
                answer["unseen_characters"] = unseen
        return answers


class SequencePredictor:
    """Answers from a reversal run: symbols separated by spaces in, the model's output sequence out."""

    def __init__(self, model: torch.nn.Module, symbols: int):
        self.model, self.symbols = model.eval(), symbols

    @classmethod
    def from_files(cls, state_dict: dict, info: dict, where: Path) -> SequencePredictor:
        try:
            model = sequence_models.ARCHITECTURES[info["architecture"]](**info["arguments"])
            model.load_state_dict(state_dict)
            symbols = int(info["arguments"]["symbols"])
        except (KeyError, TypeError, ValueError, RuntimeError) as err:
            first_line = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
            raise RnnbenchError(f"{where}: does not describe the weights beside it ({first_line})") from None
        return cls(model, symbols)

    def predict(self, texts: list[str], top_k: int = 1) -> list[dict]:
        """Example: ['3 7 2'] -> [{'input': '3 7 2', 'output': '2 7 3'}] from a model that learned to reverse; a
        regression model adds the raw 'values' its answer was rounded from."""
        sequences = [self._parse(text, position) for position, text in enumerate(texts, start=1)]
        lengths = torch.tensor([len(sequence) for sequence in sequences])
        tokens = torch.zeros(len(sequences), int(lengths.max()), dtype=torch.long)
        for row, sequence in enumerate(sequences):
            tokens[row, : len(sequence)] = torch.tensor(sequence)
        outputs, values = sequence_models.answer(self.model, tokens, lengths, max_steps=int(lengths.max()) + 1)
        regression = getattr(self.model, "regression", False)
        # a token model's answer ends at PAD; a regression model answers one rounded value per step, 0 included
        answers = [{"input": text, "output": " ".join(str(i) for i in (row.tolist()[: len(sequence)] if regression else
                                                                       [i for i in row.tolist() if i != 0]))}
                   for text, sequence, row in zip(texts, sequences, outputs)]  # fmt: skip
        if regression:  # the raw numbers the rounded answer came from
            for answer, sequence, row in zip(answers, sequences, values.tolist()):
                answer["values"] = [round(value, 4) for value in row[: len(sequence)]]
        return answers

    def _parse(self, text: str, position: int) -> list[int]:
        parts = text.replace(",", " ").split()
        if not parts:
            raise RnnbenchError(f"sequence {position} ({text!r}): empty; give symbols such as '3 7 2'")
        if len(parts) > MAX_NAME_LENGTH:
            raise RnnbenchError(f"sequence {position}: {len(parts)} symbols; more than {MAX_NAME_LENGTH} are refused")
        for part in parts:
            if not (part.isdigit() and 1 <= int(part) <= self.symbols):
                raise RnnbenchError(f"sequence {position} ({text!r}): {part!r} is not a symbol 1..{self.symbols}")
        return [int(part) for part in parts]
