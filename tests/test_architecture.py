"""The package's layering, checked on its source.

Subpackages import only downwards (layers ← models ← explain ← decoding ←
inference ← training ← export ← cli), never another subpackage's private
module or name, and only `models/` knows its models' layers by name.
"""

import ast
import pathlib

import pytest

PACKAGE = "keras_attnpred"
ROOT = pathlib.Path(__file__).resolve().parents[1] / PACKAGE

# Lower ranks may not import higher ones; equal ranks know nothing of each
# other unless they are the same subpackage.
RANKS = {
    "version": 0,
    "validation": 0,
    "serialization": 0,
    "reserved_ids": 0,
    "bucket_boundaries": 0,
    "quiet": 0,
    "_atomic_files": 0,
    "ops": 1,
    "layers": 2,
    "models": 3,
    "text": 3,
    "data": 3,
    "explain": 4,
    "decoding": 5,
    "inference": 6,
    "training": 7,
    "export": 8,
    "cli": 9,
}
# The top-level package imports what registers classes with Keras.
EXEMPT = {f"{PACKAGE}/__init__.py"}
LAYER_LOOKUPS = ("get_layer(", "layer.name")


def subpackage_of(relative_path):
    first = relative_path.parts[0]
    return first[: -len(".py")] if first.endswith(".py") else first


def imported_paths(tree):
    """`(line, dotted path)` of every keras_attnpred import, names included
    (`from a.b import c` gives `a.b.c`), at any depth of the module."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            for alias in node.names:
                yield node.lineno, f"{node.module}.{alias.name}"


def violations(source, relative_path):
    """The layering rules broken by `source`, the file at `relative_path`
    (relative to the package folder)."""
    here = subpackage_of(relative_path)
    found = []
    for line, path in imported_paths(ast.parse(source)):
        parts = path.split(".")
        if parts[0] != PACKAGE or len(parts) < 2:
            continue
        there = parts[1]
        where = f"{PACKAGE}/{relative_path.as_posix()}:{line}"
        if there not in RANKS:
            continue  # e.g. `from keras_attnpred import __version__`
        if there != here:
            private = [p for p in parts[2:] if p.startswith("_")]
            if private:
                found.append(f"{where}: private {path}")
            if RANKS[there] >= RANKS[here]:
                found.append(f"{where}: {here} imports {there} ({path})")
    if here != "models":
        for number, text in enumerate(source.splitlines(), 1):
            if any(lookup in text for lookup in LAYER_LOOKUPS):
                where = f"{PACKAGE}/{relative_path.as_posix()}:{number}"
                found.append(f"{where}: layer looked up by name")
    return found


def package_files():
    for path in sorted(ROOT.rglob("*.py")):
        relative = path.relative_to(ROOT)
        if f"{PACKAGE}/{relative.as_posix()}" not in EXEMPT:
            yield relative, path.read_text(encoding="utf-8")


def test_every_subpackage_has_a_rank():
    names = {subpackage_of(relative) for relative, _ in package_files()}
    assert names <= set(RANKS), sorted(names - set(RANKS))


def test_the_package_keeps_its_layering():
    found = [
        problem
        for relative, source in package_files()
        for problem in violations(source, relative)
    ]
    assert not found, "\n".join(found)


@pytest.mark.parametrize(
    "source, path, expected",
    [
        ("from keras_attnpred.decoding._step_decoders import x\n",
         "export/a.py", "private keras_attnpred.decoding._step_decoders.x"),
        ("from keras_attnpred.decoding import _greedy_loop\n",
         "export/a.py", "private keras_attnpred.decoding._greedy_loop"),
        ("def f():\n    from keras_attnpred.explain import x\n",
         "models/a.py", "models imports explain"),
        ("import keras_attnpred.inference\n",
         "decoding/a.py", "decoding imports inference"),
        ("from keras_attnpred.data import x\n", "text/a.py",
         "text imports data"),
        ("layer = model.get_layer('encoder_0')\n", "explain/a.py",
         "layer looked up by name"),
    ],
)
def test_the_scan_finds_each_kind_of_violation(source, path, expected):
    found = violations(source, pathlib.PurePosixPath(path))
    assert any(expected in problem for problem in found), found


@pytest.mark.parametrize(
    "source, path",
    [
        ("from keras_attnpred.layers import MultiHeadAttention\n",
         "models/a.py"),
        ("from keras_attnpred.decoding import _decoding_utils\n",
         "decoding/a.py"),
        ("from keras_attnpred.reserved_ids import PAD_ID\n", "export/a.py"),
        ("layer = self.get_layer('logits')\n", "models/a.py"),
    ],
)
def test_the_scan_allows_what_the_layering_allows(source, path):
    assert violations(source, pathlib.PurePosixPath(path)) == []
