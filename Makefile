# `make demo` and `make test` need nothing but Python 3.10+: they make .venv
# and install the package with its dev extras first. `make test` lints, runs
# the suite on TensorFlow and the layer and model tests again on JAX.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
# One worker per core; a test module stays on one worker, so its fixtures
# are built once.
PYTEST_ARGS ?= -n auto --dist loadfile

.PHONY: install demo lint test test-tensorflow test-jax test-slow clean

$(VENV)/.installed: setup.py setup.cfg
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $@

install: $(VENV)/.installed

# The main job on bundled data: train a small English-Spanish Transformer,
# report BLEU on held-out pairs, translate a few sentences (again each time:
# --overwrite replaces the run of the last `make demo`).
demo: install
	$(VENV)/bin/attnpred demo --out runs/demo --overwrite

# Lint and import order (ruff.toml).
lint: install
	$(VENV)/bin/ruff check .

test: lint test-tensorflow test-jax

test-tensorflow: install
	KERAS_BACKEND=tensorflow $(PY) -m pytest $(PYTEST_ARGS)

test-jax: install
	KERAS_BACKEND=jax $(PY) -m pytest tests/layers tests/models tests/ops $(PYTEST_ARGS)

# Long tests, kept out of the default run.
test-slow: install
	KERAS_BACKEND=tensorflow $(PY) -m pytest -m slow $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) build *.egg-info
