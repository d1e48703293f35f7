import os
import subprocess
import sys

import pytest

import keras_attnpred


def test_version_is_exposed():
    assert keras_attnpred.__version__.count(".") == 2


def test_import_is_cheap_and_loads_no_framework():
    """`import keras_attnpred` must not import Keras, TensorFlow or JAX."""
    code = (
        "import sys, keras_attnpred;"
        "heavy = [m for m in ('keras', 'tensorflow', 'jax') if m in sys.modules];"
        "print(','.join(heavy))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == ""


def test_subpackage_loads_on_attribute_access():
    from keras_attnpred import layers

    assert keras_attnpred.layers is layers
    assert hasattr(layers, "MultiHeadAttention")
    for name in ("data", "decoding", "explain", "export", "models", "text",
                 "training"):
        assert getattr(keras_attnpred, name).__name__ == f"keras_attnpred.{name}"


def test_saved_model_loads_in_a_process_that_never_imported_the_layers(tmp_path):
    """`keras_attnpred.serialization.load_model` registers what it needs."""
    from keras_attnpred.models import build_rnn_classifier

    path = str(tmp_path / "classifier.keras")
    build_rnn_classifier(50, 2, embedding_dim=8, units=8).save(path)
    code = (
        "import sys; from keras_attnpred.serialization import load_model;"
        f"model = load_model({path!r});"
        "print(type(model.get_layer('pooling')).__name__)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().splitlines()[-1] == "AttentionPooling"


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
