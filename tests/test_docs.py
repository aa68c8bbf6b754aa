"""The documentation: the command-line reference is generated from the Typer app and kept current, and the README
stays a front door (short, its links into docs/ alive). The site itself is checked by `make docs`
(mkdocs build --strict: dead links, missing anchors, pages left out of the nav)."""

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import yaml
from test_cli import assert_clean_failure, invoke

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
CLI_PAGE = ROOT / "docs" / "reference" / "cli.md"

# the same command, in the same environment, as `make cli-docs`: the page must not depend on the terminal
CLI_DOCS_COMMAND = ["-m", "typer", "rnnbench.cli", "utils", "docs", "--name", "rnnbench"]
CLI_DOCS_TITLE = ["--title", "Command-line reference"]
CLI_DOCS_ENV = {"COLUMNS": "80", "TERM": "dumb", "NO_COLOR": "1"}

README_MAX_BYTES = 20_000


def test_cli_reference_is_generated_from_the_app(tmp_path):
    page = tmp_path / "cli.md"
    done = subprocess.run(
        [sys.executable, *CLI_DOCS_COMMAND, *CLI_DOCS_TITLE, "--output", str(page)],
        cwd=ROOT,
        env={**os.environ, **CLI_DOCS_ENV},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    generated = page.read_text(encoding="utf-8")
    assert generated.startswith("# Command-line reference\n") and "## `rnnbench run`" in generated
    committed = CLI_PAGE.read_text(encoding="utf-8") if CLI_PAGE.exists() else ""
    assert generated == committed, "docs/reference/cli.md is out of date: run make cli-docs"


def test_the_makefile_generates_the_page_the_same_way():
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert "CLI_DOCS_ENV := " + " ".join(f"{k}={v}" for k, v in CLI_DOCS_ENV.items()) in makefile
    assert "python " + " ".join(CLI_DOCS_COMMAND) + ' --title "Command-line reference"' in makefile


def test_readme_is_a_front_door():
    size = len(README.read_bytes())
    assert size <= README_MAX_BYTES, (
        f"README.md is {size:,} bytes (at most {README_MAX_BYTES:,}): move detail into docs/"
    )


def test_readme_links_point_at_files_that_exist():
    """Relative links (docs pages, images, files of the repository) must find their file, on GitHub as here."""
    text = README.read_text(encoding="utf-8")
    targets = re.findall(r"\]\(([^)\s]+)\)", text)
    relative = [t for t in targets if not re.match(r"^[a-z][a-z0-9+.-]*:", t) and not t.startswith("#")]
    assert any(t.startswith("docs/") for t in relative)  # the README sends readers into the docs
    missing = [t for t in relative if not (ROOT / t.split("#", 1)[0]).exists()]
    assert not missing, f"README.md links to files that do not exist: {missing}"


def documented_predict_commands() -> list[tuple[str, list[str]]]:
    """(where, words) of every `rnnbench predict` a user copies: the lines of the README's and the docs' code blocks
    (a `$ ` prompt dropped) and of the experiment files' comments, each without its own comment."""
    pages = [README, *sorted((ROOT / "docs").rglob("*.md")), *sorted((ROOT / "experiments").glob("*.yaml"))]
    found = []
    for page in pages:
        if page == CLI_PAGE:  # generated from the help texts: no examples
            continue
        in_code = page.suffix == ".yaml"  # an experiment file's comments are all to copy
        for number, line in enumerate(page.read_text(encoding="utf-8").splitlines(), start=1):
            if line.lstrip().startswith("```"):
                in_code = not in_code
                continue
            text = line.strip().removeprefix("#").strip() if page.suffix == ".yaml" else line.strip()
            text = text.removeprefix("$ ")
            if in_code and text.startswith("rnnbench predict"):
                found.append((f"{page.relative_to(ROOT)} line {number}", shlex.split(text, comments=True)))
    return found


def test_every_documented_predict_command_answers_after_other_experiments(tmp_path, names_dir, monkeypatch):
    """The README's and the docs' predict examples name the experiment (or the run) they answer from, so they
    answer whatever else has run: here after two shipped experiments that answer different questions, where a
    bare `predict Tribbiani` refuses in one line listing the choices."""
    commands = documented_predict_commands()
    assert len(commands) >= 10 and any(where.startswith("README.md") for where, _ in commands)
    shipped = {yaml.safe_load(path.read_text())["name"] for path in (ROOT / "experiments").glob("*.yaml")}
    for where, words in commands:
        assert "--experiment" in words or "--run" in words, f"{where}: names no --experiment or --run"
        if "--experiment" in words:
            assert words[words.index("--experiment") + 1] in shipped | {"my_experiment"}, where
    results = tmp_path / "results"
    tiny = ["train.max_epochs=1", "seeds=[0]", "grid.cell=[gru]", "grid.bidirectional=[false]", "model.hidden_size=8"]
    for name in ("names_de_it", "names_18"):
        overrides = [word for setting in [*tiny, "device=cpu"] for word in ("--set", setting)]
        experiment = ROOT / "experiments" / f"{name}.yaml"
        ran = invoke("run", experiment, "--results", results, "--data-dir", names_dir, *overrides)
        assert ran.exit_code == 0, ran.output
    monkeypatch.chdir(tmp_path)  # where `--file names.txt` and `> answers.csv` are
    (tmp_path / "names.txt").write_text("Rossi\nSchmidt\n", encoding="utf-8")
    answered = 0
    for where, words in commands:
        arguments = words[2:]
        arguments = arguments[: arguments.index(">")] if ">" in arguments else arguments  # stdout to a file
        if "--experiment" not in arguments or arguments[arguments.index("--experiment") + 1] not in (
            "names_de_it",
            "names_18",
        ):
            continue  # another experiment's (checked above to name it), or one run's directory
        result = invoke("predict", "--results", results, *arguments)  # before any `--`, which ends the options
        assert result.exit_code == 0, f"{where}: {shlex.join(words)}\n{result.output}"
        assert result.stdout.strip(), where
        answered += 1
    assert answered >= 5
    assert_clean_failure(
        invoke("predict", "Tribbiani", "--results", results),
        1,
        "these runs answer different questions",
        "choose one: --experiment names_18 | --experiment names_de_it (or --run DIR)",
    )


def test_run_directories_in_examples_are_ones_the_shipped_experiments_write():
    """A run directory the README or a page shows (`rnnbench show results/...`) is copied as it is: it must be one
    that the shipped experiment file of that name writes (its variant's real key), never a placeholder. A user's
    own experiment's key is left to the shell (`-*/`)."""
    from rnnbench import config, rundir

    written = {}
    for path in sorted((ROOT / "experiments").glob("*.yaml")):
        experiment = config.load(path)
        # the variant's folder: a page may show another seed's run (the shipped file run with --set seeds=...)
        written[experiment.name] = {
            str(rundir.run_dir(Path("results"), spec).parent) for spec in experiment.run_specs()
        }
    pages = [README, *sorted((ROOT / "docs").rglob("*.md"))]
    shown = [
        (page.name, match)
        for page in pages
        for match in re.findall(r"results/[\w.-]+/[\w.*-]+/seed-\d+", page.read_text(encoding="utf-8"))
    ]
    assert len(shown) >= 8
    for page, path in shown:
        experiment = path.split("/")[1]
        if experiment in written:
            folder = str(Path(path).parent)
            assert folder in written[experiment], f"{page}: {path} is no run of experiments/{experiment}.yaml"
        else:
            assert path.split("/")[2].endswith("-*"), f"{page}: {path}: a user's key is left to the shell (-*)"
    placeholders = [page.name for page in pages if re.search(r"[a-z0-9]-KEY/", page.read_text(encoding="utf-8"))]
    assert placeholders == []
