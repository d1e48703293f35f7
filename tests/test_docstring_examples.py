"""The `Example` sections of the public docstrings run, so they cannot rot.

Public: every class and function that a subpackage in `SUBPACKAGES` exports
from its `__init__.py`, and the public methods (of those classes and of the
package's own base classes) whose docstrings have an `Example:` section.
Each section (its `>>>` lines, up to the next section header such as
`References:` or the docstring's end) runs with `doctest`
(`ELLIPSIS | NORMALIZE_WHITESPACE`), one test per object, in a fresh
temporary directory as the working directory, after
`keras.utils.set_random_seed(1337)` (tests/conftest.py).

Names an example may use without importing them:
- `np` (NumPy) and `keras`;
- every public name of every subpackage of `keras_attnpred` (layers,
  models, ops, explain, inference, text, data, decoding, training, export);
- the ready-made objects of `FIXTURES` below, for what one line cannot
  make; each is made once per session, and only for an example that names
  it:
  - `tokenizer`: a `SubwordTokenizer` (at most 120 tokens) learned from the
    toy movie reviews of tests/training/tiny_data.py, which know the words
    "a", "wonderful", "film", "the", "plot", "was", "dull", ...;
  - `sentiment_run`: the directory of a run of `keras_attnpred.training.
    train` on those reviews (an RNN classifier with attention pooling, 2
    epochs, classes "negative" and "positive", `max_length` 16): it tells
    "a wonderful film" from "a dull plot", and its attention picks the
    sentiment word;
  - `english`, `spanish`: `SubwordTokenizer`s of the toy word-for-word
    translations of tests/training/tiny_data.py ("the cat eats fish" and
    "el gato come pez");
  - `translator`: an untrained `Translator` from `english` to `spanish`
    (a "tiny" `TransformerTranslator`, `max_length` 16): its translations
    are word salad, but of the right types and shapes;
  - `legacy_classifier_path`: a `.keras` file of an RNN classifier laid out
    as keras_attnpred < 0.5 saved it (a plain functional model with layers
    named "embedding", "rnn", "pooling", "logits"), for
    `upgrade_legacy_model`.

With another backend than TensorFlow, only the examples of
`BACKEND_AGNOSTIC` subpackages run (the others need TensorFlow anyway).
"""

import doctest
import importlib
import inspect
import re

import keras
import numpy as np
import pytest

# The subpackages whose docstrings are checked; every one of them lends its
# public names to the examples.
SUBPACKAGES = (
    "layers", "models", "ops", "explain", "inference", "text", "data",
    "decoding", "training", "export",
)
ALL_SUBPACKAGES = SUBPACKAGES
BACKEND_AGNOSTIC = ("layers", "models", "ops")

# Public objects without an example, and why none would help.
NO_EXAMPLE = {}

# Examples shown but not run here, and why.
NOT_RUN = {
    "training.tune": "trains a search of several runs; "
    "tests/training/test_tune.py runs searches on tiny data",
    "data.LabeledTexts.from_tfds": "downloads a TensorFlow Datasets split; "
    "tests/data/test_tfds.py runs it with a stand-in `tensorflow_datasets`",
    "data.ParallelTexts.from_tfds": "downloads a TensorFlow Datasets split; "
    "tests/data/test_tfds.py runs it with a stand-in `tensorflow_datasets`",
}

OPTIONFLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
# A section header of a Google-style docstring: "Returns:", "References:".
_HEADER = re.compile(r"^(\s*)([A-Z][A-Za-z ]*):\s*$")
_EXAMPLE_HEADER = re.compile(r"^(\s*)Examples?:\s*$")


def example_section(docstring):
    """The text of the `Example:` section of `docstring`, or None.

    The section runs from its header to the next header at the same or a
    smaller indentation (`References:`) or the end.
    """
    lines = inspect.cleandoc(docstring or "").splitlines()
    for start, line in enumerate(lines):
        match = _EXAMPLE_HEADER.match(line)
        if match is None:
            continue
        indent = len(match.group(1))
        body = []
        for line in lines[start + 1:]:
            header = _HEADER.match(line)
            if header and len(header.group(1)) <= indent:
                break
            body.append(line)
        return "\n".join(body)
    return None


def _public_names(module):
    names = getattr(module, "__all__", None)
    if names is None:
        names = [name for name in vars(module) if not name.startswith("_")]
    return [
        name for name in names
        if not inspect.ismodule(getattr(module, name))
    ]


def _methods(cls):
    """`(name, function)` of the public methods of `cls` and of its bases
    defined in keras_attnpred, properties included."""
    seen = set()
    for klass in cls.__mro__:
        if not klass.__module__.startswith("keras_attnpred"):
            continue
        for name, attribute in vars(klass).items():
            if name.startswith("_") or name in seen:
                continue
            seen.add(name)
            if isinstance(attribute, property):
                attribute = attribute.fget
            attribute = getattr(attribute, "__func__", attribute)
            if inspect.isfunction(attribute):
                yield name, attribute


def public_objects(subpackages=SUBPACKAGES):
    """`(qualified name, subpackage, object)` of every exported class and
    function; data (e.g. the preset dicts) has no docstring of its own."""
    found = []
    for subpackage in subpackages:
        module = importlib.import_module(f"keras_attnpred.{subpackage}")
        for name in _public_names(module):
            obj = getattr(module, name)
            if inspect.isclass(obj) or inspect.isfunction(obj):
                found.append((f"{subpackage}.{name}", subpackage, obj))
    return found


def documented_examples(subpackages=SUBPACKAGES):
    """`(qualified name, subpackage, object)` of every docstring to run:
    the public objects, and their methods that have an example (a method of
    a shared base class is run once)."""
    examples, seen = [], set()
    for name, subpackage, obj in public_objects(subpackages):
        examples.append((name, subpackage, obj))
        if not inspect.isclass(obj):
            continue
        for method_name, method in _methods(obj):
            if method in seen or example_section(method.__doc__) is None:
                continue
            seen.add(method)
            examples.append((f"{name}.{method_name}", subpackage, method))
    return examples


def package_globals():
    """`np`, `keras` and the public names of every subpackage."""
    names = {"np": np, "keras": keras}
    for subpackage in ALL_SUBPACKAGES:
        module = importlib.import_module(f"keras_attnpred.{subpackage}")
        for name in _public_names(module):
            names[name] = getattr(module, name)
    return names


def run_example(name, docstring, globs, filename=None, lineno=0):
    """Runs the `Example:` section of `docstring`; returns `(attempted,
    failures, report)`, the report saying what differed."""
    section = example_section(docstring)
    if section is None:
        return 0, 0, f"{name}: no `Example:` section"
    test = doctest.DocTestParser().get_doctest(
        section, dict(globs), name, filename, lineno
    )
    runner = doctest.DocTestRunner(optionflags=OPTIONFLAGS, verbose=False)
    report = []
    runner.run(test, out=report.append, clear_globs=True)
    return runner.tries, runner.failures, "".join(report)


# ---- Fixtures the examples may name -----------------------------------------


@pytest.fixture(scope="session")
def tokenizer(tmp_path_factory):
    from keras_attnpred.data import LabeledTexts
    from keras_attnpred.text import SubwordTokenizer
    from tests.training.tiny_data import write_sentiment_csv

    path = tmp_path_factory.mktemp("reviews") / "reviews.csv"
    write_sentiment_csv(str(path), 200)
    texts = LabeledTexts.from_csv(str(path), "text", "label").texts
    return SubwordTokenizer.train(texts, vocabulary_size=120)


@pytest.fixture(scope="session")
def sentiment_run(tmp_path_factory):
    from keras_attnpred.training import train
    from tests.training.tiny_data import write_sentiment_csv

    directory = tmp_path_factory.mktemp("sentiment")
    config = {
        "task": "sentiment",
        "train_path": write_sentiment_csv(str(directory / "reviews.csv"), 240),
        "model": "rnn",
        "preset": "tiny",
        "vocabulary_size": 120,
        "max_length": 16,
        "learning_rate": 0.01,
        "batch_size": 16,
        "epochs": 2,
    }
    train(config, str(directory / "run"), verbose=0)
    return str(directory / "run")


@pytest.fixture(scope="session")
def _toy_translations(tmp_path_factory):
    from keras_attnpred.data import ParallelTexts
    from tests.training.tiny_data import write_translation_tsv

    path = tmp_path_factory.mktemp("pairs") / "pairs.tsv"
    return ParallelTexts.from_tsv(write_translation_tsv(str(path), 200))


@pytest.fixture(scope="session")
def english(_toy_translations):
    from keras_attnpred.text import SubwordTokenizer

    return SubwordTokenizer.train(list(_toy_translations.sources), 60)


@pytest.fixture(scope="session")
def spanish(_toy_translations):
    from keras_attnpred.text import SubwordTokenizer

    return SubwordTokenizer.train(list(_toy_translations.targets), 60)


@pytest.fixture
def translator(english, spanish):
    from keras_attnpred.inference import Translator
    from keras_attnpred.models import build_transformer_translator

    model = build_transformer_translator(
        english.vocabulary_size, spanish.vocabulary_size, max_length=16,
        preset="tiny")
    return Translator(model, english, spanish, max_length=16)


@pytest.fixture(scope="session")
def legacy_classifier_path(tmp_path_factory):
    from tests.models.legacy_builders import legacy_rnn_classifier

    model = legacy_rnn_classifier(
        100, 2, embedding_dim=8, units=8, bidirectional=False
    )
    path = str(tmp_path_factory.mktemp("legacy") / "classifier.keras")
    model.save(path)
    return path


FIXTURES = (
    "tokenizer",
    "sentiment_run",
    "english",
    "spanish",
    "translator",
    "legacy_classifier_path",
)


# ---- The tests --------------------------------------------------------------


def _source(obj):
    """The file of `obj` and the line of its `Example:` header (0-based
    for doctest, which then reports the examples' own lines)."""
    try:
        lines, start = inspect.getsourcelines(obj)
    except (OSError, TypeError):
        return None, 0
    for index, line in enumerate(lines):
        if _EXAMPLE_HEADER.match(line):
            return inspect.getsourcefile(obj), start + index
    return inspect.getsourcefile(obj), start


EXAMPLES = documented_examples()


@pytest.mark.parametrize(
    "name, subpackage, obj", EXAMPLES, ids=[name for name, _, _ in EXAMPLES]
)
def test_example_runs(name, subpackage, obj, request, tmp_path, monkeypatch):
    if name in NO_EXAMPLE:
        pytest.skip(f"no example: {NO_EXAMPLE[name]}")
    if name in NOT_RUN:
        pytest.skip(f"not run: {NOT_RUN[name]}")
    if (
        keras.backend.backend() != "tensorflow"
        and subpackage not in BACKEND_AGNOSTIC
    ):
        pytest.skip("needs TensorFlow; the TensorFlow run checks it")
    section = example_section(obj.__doc__) or ""
    globs = package_globals()
    for fixture in FIXTURES:
        if re.search(rf"\b{fixture}\b", section):
            globs[fixture] = request.getfixturevalue(fixture)
    monkeypatch.chdir(tmp_path)
    filename, lineno = _source(obj)
    attempted, failures, report = run_example(
        name, obj.__doc__, globs, filename, lineno
    )
    assert failures == 0, report
    assert attempted > 0, f"{name}: its `Example:` has no `>>>` line"


def without_example(objects):
    """The names of `objects` (`(name, subpackage, object)`) that have no
    `Example:` section with a `>>>` line and are not in `NO_EXAMPLE`."""
    missing = []
    for name, _, obj in objects:
        section = example_section(obj.__doc__) or ""
        if name not in NO_EXAMPLE and ">>>" not in section:
            missing.append(name)
    return missing


def test_every_public_object_has_an_example():
    missing = without_example(public_objects())
    assert not missing, (
        "public objects without an `Example:` holding `>>>` lines (give "
        f"them one, or a reason in NO_EXAMPLE): {missing}"
    )


def test_the_lists_name_public_objects():
    names = {name for name, _, _ in EXAMPLES}
    assert set(NO_EXAMPLE) <= names and set(NOT_RUN) <= names


# ---- The checks fail where they should -------------------------------------


def test_the_runner_fails_on_a_wrong_output():
    attempted, failures, report = run_example("fake", """Adds.

        Example:

        >>> 1 + 1
        3
        """, {})
    assert (attempted, failures) == (1, 1)
    assert "Expected:\n    3\nGot:\n    2" in report


def test_the_runner_fails_on_an_error_and_sees_the_globals():
    attempted, failures, report = run_example("fake", """Example:

        >>> np.zeros(2).shape
        (2,)
        >>> undefined_name
        """, {"np": np})
    assert (attempted, failures) == (2, 1)
    assert "NameError: name 'undefined_name' is not defined" in report


def test_the_section_ends_at_the_next_header():
    docstring = """Does it.

    Args:
        x: an int.

    Example:

    >>> x = 1
    >>> x + 1
    2

    References:
        >>> raise RuntimeError("not part of the example")
    """
    assert example_section(docstring).split() == [
        ">>>", "x", "=", "1", ">>>", "x", "+", "1", "2"]
    assert run_example("fake", docstring, {})[:2] == (2, 0)


def test_objects_without_a_runnable_example_are_named():
    def documented():
        """Example:

        >>> 1
        1
        """

    def prose_only():
        """Example:

        Call it.
        """

    def undocumented():
        pass

    objects = [(f.__name__, "fake", f)
               for f in (documented, prose_only, undocumented)]
    assert without_example(objects) == ["prose_only", "undocumented"]
    assert run_example("fake", prose_only.__doc__, {})[:2] == (0, 0)
