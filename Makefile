# Two commands do all set-up:  `make demo`  and  `make test`.
#
# TORCH is the torch requirement installed into the virtual environment before rnnbench itself (rnnbench
# asks only for torch>=2.2, so an existing torch is kept). Choose the build for your machine, e.g.
#   make demo TORCH_INDEX=https://download.pytorch.org/whl/cpu      # CPU-only wheel (small)
#   make demo TORCH_INDEX=https://download.pytorch.org/whl/cu126    # a CUDA 12.6 build
PYTHON ?= python3
VENV ?= .venv
TORCH ?= torch==2.13.0
TORCH_INDEX ?=
BIN := $(VENV)/bin

.PHONY: install demo test lint test-slow test-ray test-export check-light docs cli-docs clean-results

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -c "import torch" 2>/dev/null || \
		$(BIN)/python -m pip install "$(TORCH)" $(if $(TORCH_INDEX),--index-url $(TORCH_INDEX))
	$(BIN)/python -m pip install -e ".[dev,plot]"
	touch $@

demo: install
	$(BIN)/rnnbench run experiments/names_de_it.yaml
	$(BIN)/rnnbench predict Tribbiani --experiment names_de_it

test: install
	$(BIN)/python -m pytest

# the formatter, the linter and the layers (import-linter's contracts in pyproject.toml): all three must pass
lint: install
	$(BIN)/ruff format --check rnnbench tests benchmarks
	$(BIN)/ruff check rnnbench tests benchmarks
	$(BIN)/lint-imports

# the long learning checks (models must actually learn the task), left out of `make test`
test-slow: install
	$(BIN)/python -m pytest -m slow

# the Ray executor on a real local Ray instance: installs the ray extra first
test-ray: install
	$(BIN)/python -m pip install -e ".[ray]"
	$(BIN)/python -m pytest -m ray

# export to real MLflow and TensorBoard stores: installs those extras first
test-export: install
	$(BIN)/python -m pip install -e ".[mlflow,tensorboard]"
	$(BIN)/python -m pytest -m export

# the documentation site (docs/, mkdocs.yml) into site/: installs the docs extra first; a dead link, a missing
# anchor or a page left out of the nav fails the build
docs: install
	$(BIN)/python -m pip install -e ".[docs]"
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict

# docs/reference/cli.md, generated from the Typer app (tests/test_docs.py runs the same command, in the same
# environment, and fails when the committed page differs)
CLI_DOCS_ENV := COLUMNS=80 TERM=dumb NO_COLOR=1
cli-docs: install
	$(CLI_DOCS_ENV) $(BIN)/python -m typer rnnbench.cli utils docs --name rnnbench --title "Command-line reference" \
		--output docs/reference/cli.md

# `pip install .` with no extras, in a virtual environment of its own: run, compare and predict must work
LIGHT ?= $(VENV)-light
check-light:
	test -x $(LIGHT)/bin/python || $(PYTHON) -m venv $(LIGHT)
	$(LIGHT)/bin/python -c "import torch" 2>/dev/null || \
		$(LIGHT)/bin/python -m pip install "$(TORCH)" $(if $(TORCH_INDEX),--index-url $(TORCH_INDEX))
	$(LIGHT)/bin/python -m pip install .
	cd $(LIGHT) && bin/python -c "import importlib.util as u, sys; sys.exit(any(u.find_spec(m) for m in ('matplotlib', 'mlflow', 'tensorboard', 'ray', 'optuna')))"
	$(LIGHT)/bin/rnnbench validate experiments/names_de_it.yaml
	$(LIGHT)/bin/rnnbench params experiments/names_de_it.yaml
	$(LIGHT)/bin/rnnbench run experiments/names_de_it.yaml --set train.max_epochs=1 --set 'seeds=[0]' --results $(LIGHT)/results
	$(LIGHT)/bin/rnnbench compare --results $(LIGHT)/results
	$(LIGHT)/bin/rnnbench predict Tribbiani --experiment names_de_it --results $(LIGHT)/results
	$(LIGHT)/bin/rnnbench show $$(ls -d $(LIGHT)/results/names_de_it/*/seed-0 | head -1) > /dev/null
	$(LIGHT)/bin/rnnbench tune experiments/names_18_tuned.yaml --results $(LIGHT)/results 2>&1 \
		| grep -q "needs optuna, which is not installed: pip install 'rnnbench\[tune\]'"  # one line, nothing run

clean-results:
	find results -mindepth 1 -not -name README.md -delete
