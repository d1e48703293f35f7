import subprocess
import sys

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
    for name in ("data", "decoding", "models", "text", "training"):
        assert getattr(keras_attnpred, name).__name__ == f"keras_attnpred.{name}"
