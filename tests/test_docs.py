"""The documentation: the command-line reference is generated from the Typer app and kept current, and the README
stays a front door (short, its links into docs/ alive). The site itself is checked by `make docs`
(mkdocs build --strict: dead links, missing anchors, pages left out of the nav)."""

import os
import re
import subprocess
import sys
from pathlib import Path

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


def test_run_directories_in_examples_are_ones_the_shipped_experiments_write():
    """A run directory the README or a page shows (`rnnbench show results/...`) is copied as it is: it must be one
    that the shipped experiment file of that name writes (its variant's real key), never a placeholder. A user's
    own experiment's key is left to the shell (`-*/`)."""
    from rnnbench import config, rundir

    written = {}
    for path in sorted((ROOT / "experiments").glob("*.yaml")):
        experiment = config.load(path)
        written[experiment.name] = {str(rundir.run_dir(Path("results"), spec)) for spec in experiment.run_specs()}
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
            assert path in written[experiment], f"{page}: {path} is no run of experiments/{experiment}.yaml"
        else:
            assert path.split("/")[2].endswith("-*"), f"{page}: {path}: a user's key is left to the shell (-*)"
    placeholders = [page.name for page in pages if re.search(r"[a-z0-9]-KEY/", page.read_text(encoding="utf-8"))]
    assert placeholders == []
