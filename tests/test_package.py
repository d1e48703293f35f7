import os
import subprocess
import sys

import keras
import pytest

import keras_attnpred
from keras_attnpred.models import build_transformer_classifier


def test_version_is_exposed():
    assert keras_attnpred.__version__.count(".") == 2


def test_import_loads_no_tensorflow_on_jax():
    """`import keras_attnpred` loads neither Keras nor TensorFlow; Keras
    then registers the classes without TensorFlow on the JAX backend."""
    pytest.importorskip("jax")
    code = (
        "import sys, keras_attnpred;"
        "print('tensorflow' in sys.modules, 'keras' in sys.modules);"
        "import keras;"
        "print('tensorflow' in sys.modules, keras.saving.get_registered_object("
        "'keras_attnpred>TextClassifier').__name__)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True,
        timeout=300, env={**os.environ, "KERAS_BACKEND": "jax"},
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().splitlines()[-2:] == [
        "False False", "False TextClassifier"]


def _load_after(imports, tmp_path, lines=2):
    """Runs `imports`, then `import keras` and loads a classifier and a
    schedule in a new JAX process (it starts faster; the registration is
    the same on every backend); returns their class names."""
    pytest.importorskip("jax")
    from keras_attnpred.training import TransformerSchedule

    schedule = keras.saving.serialize_keras_object(TransformerSchedule(16))
    path = str(tmp_path / "classifier.keras")
    build_transformer_classifier(50, 2, 8, preset="tiny").save(path)
    code = imports + (
        "\nimport keras\n"
        f"print(type(keras.models.load_model({path!r})).__name__,\n"
        f"      type(keras.saving.deserialize_keras_object({schedule!r}))"
        ".__name__)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True,
        timeout=300, env={**os.environ, "KERAS_BACKEND": "jax"},
    )
    assert result.returncode == 0, (imports, result.stderr[-2000:])
    return result.stdout.split()[-lines:]


def _registering_modules():
    """The modules of the package that register a class with Keras."""
    root = os.path.join(os.path.dirname(keras_attnpred.__file__))
    found = []
    for folder, _, names in os.walk(root):
        for name in names:
            path = os.path.join(folder, name)
            if not name.endswith(".py") or name == "serialization.py":
                continue
            with open(path, encoding="utf-8") as f:
                if "\n@register\n" not in f.read():
                    continue
            relative = os.path.relpath(path[:-3], os.path.dirname(root))
            found.append(relative.replace(os.sep, "."))
    return sorted(found)


def test_bare_import_then_keras_registers_every_class(tmp_path):
    """`import keras_attnpred` first, Keras after: `load_model` works, and
    every module that registers a class has run."""
    modules = _registering_modules()
    assert "keras_attnpred.training.transformer_schedule" in modules
    imports = ("import sys, keras_attnpred\n"
               f"modules = {modules!r}\n"
               "import keras\n"
               "print([m for m in modules if m not in sys.modules])")
    assert _load_after(imports, tmp_path, lines=3) == [
        "[]", "TextClassifier", "TransformerSchedule"]


@pytest.mark.slow
@pytest.mark.parametrize("imports", [
    "from keras_attnpred.data import RaggedIds",  # Keras imported later
    # A module of the package imports Keras half-way through its import.
    "from keras_attnpred.serialization import register",
    "from keras_attnpred import layers",
])
def test_any_first_import_registers_every_class(imports, tmp_path):
    assert _load_after(imports, tmp_path) == [
        "TextClassifier", "TransformerSchedule"]


def test_load_model_without_the_import_names_the_package(tmp_path):
    """Without `import keras_attnpred`, Keras cannot know the classes (the
    package never ran): its error names the missing class and, in the
    config it prints, the module `keras_attnpred...`, as the README says."""
    path = str(tmp_path / "classifier.keras")
    build_transformer_classifier(50, 2, 8, preset="tiny").save(path)
    code = f"import keras; keras.models.load_model({path!r})"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True,
        timeout=300,
    )
    assert result.returncode != 0
    assert "Could not locate class 'TextClassifier'" in result.stderr
    assert "'module': 'keras_attnpred.models." in result.stderr


def test_import_keras_attnpred_is_enough_for_load_model(tmp_path):
    """A new process: `import keras_attnpred`, then plain
    `keras.models.load_model` of every kind of model."""
    from keras_attnpred.models import build_rnn_translator
    from keras_attnpred.models import build_transformer_classifier

    paths = [str(tmp_path / "classifier.keras"), str(tmp_path / "rnn.keras")]
    build_transformer_classifier(50, 2, 8, preset="tiny").save(paths[0])
    build_rnn_translator(20, 20, embedding_dim=4, units=4).save(paths[1])
    code = (
        "import keras, keras_attnpred\n"
        f"for path in {paths!r}:\n"
        "    print(type(keras.models.load_model(path)).__name__)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split()[-2:] == ["TextClassifier", "RNNTranslator"]


def test_subpackage_loads_on_attribute_access():
    from keras_attnpred import layers

    assert keras_attnpred.layers is layers
    assert hasattr(layers, "MultiHeadAttention")
    for name in ("data", "decoding", "explain", "export", "inference",
                 "models", "text", "training"):
        assert getattr(keras_attnpred, name).__name__ == f"keras_attnpred.{name}"


def test_saved_model_loads_in_a_process_that_never_imported_the_layers(tmp_path):
    """`keras_attnpred.serialization.load_model` registers what it needs."""
    from keras_attnpred.models import build_rnn_classifier

    path = str(tmp_path / "classifier.keras")
    build_rnn_classifier(50, 2, embedding_dim=8, units=8).save(path)
    code = (
        "import sys; from keras_attnpred.serialization import load_model;"
        f"model = load_model({path!r});"
        "print(type(model).__name__, model.pooling)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().splitlines()[-1] == "TextClassifier attention"


def test_decoding_works_without_tensorflow():
    """The GPU machine has JAX only: decoding must not need TensorFlow."""
    pytest.importorskip("jax")
    code = (
        "import sys; sys.modules['tensorflow'] = None\n"  # import fails
        "import numpy as np\n"
        "from keras_attnpred.decoding import beam_search, greedy_search\n"
        "from keras_attnpred.models import build_transformer_translator\n"
        "model = build_transformer_translator(20, 20, max_length=6,\n"
        "    preset='tiny', model_dim=8, num_heads=1, intermediate_dim=8)\n"
        "source = np.array([[5, 6, 7, 0]])\n"
        "ids = greedy_search(model, source, max_length=6)\n"
        "beam, _ = beam_search(model, source, beam_width=2, max_length=6)\n"
        "np.testing.assert_array_equal(\n"
        "    beam_search(model, source, beam_width=1, max_length=6)[0][:, 0],\n"
        "    ids)\n"
        "from keras_attnpred import explain\n"  # no TensorFlow either
        "weights = explain.translation_alignment(model, source, ids)\n"
        "import keras; print(keras.backend.backend(), beam.shape[:2])\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True,
        timeout=300, env={**os.environ, "KERAS_BACKEND": "jax"},
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().splitlines()[-1] == "jax (1, 1)"


def test_training_names_stay_the_functions_once_their_modules_load():
    """`keras_attnpred.training` loads its names lazily; the submodules
    `train`, `prepare`, `tune` and `get_strategy` never hide the functions."""
    import importlib
    import types

    import keras_attnpred.training as training

    for name in ("train", "prepare", "tune", "get_strategy"):
        importlib.import_module(f"keras_attnpred.training.{name}")
        value = getattr(training, name)
        assert isinstance(value, types.FunctionType), (name, value)
        assert value.__name__ == name
    assert training.TrainingConfig.__name__ == "TrainingConfig"
