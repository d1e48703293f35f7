"""Saved models load in a fresh Python that only imports keras_attnpred.models.

The other reload tests run in a process whose test modules already imported
every class; this one shows that `import keras_attnpred.models` alone
registers all that `keras.models.load_model` needs.
"""

import os
import subprocess
import sys

import keras
import numpy as np
import pytest

from keras_attnpred.models import MaskedLanguageModel
from keras_attnpred.models import RNNEncoderBackbone
from keras_attnpred.models import RNNTranslator
from keras_attnpred.models import TextClassifier
from keras_attnpred.models import TransformerEncoderBackbone
from keras_attnpred.models import TransformerTranslator
from tests.layer_checks import padded_ids
from tests.layer_checks import to_numpy
from tests.models.model_checks import translation_batch

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(__file__)))

LOAD_AND_RUN = """
import sys

import keras
import numpy as np

import keras_attnpred.models  # noqa: F401 (registers the classes)

folder = sys.argv[1]
inputs = dict(np.load(f"{folder}/inputs.npz"))
results = {}
for name in sys.argv[2:]:
    model = keras.models.load_model(f"{folder}/{name}.keras")
    if "translator" in name:
        outputs = model({k: inputs[k] for k in ("source", "target")})
    elif name == "masked_language_model":
        outputs = model({k: inputs[k] for k in ("token_ids", "mask_positions")})
    else:
        outputs = model(inputs["ids"])
    results[name] = keras.ops.convert_to_numpy(outputs)
    results[f"{name}_class"] = np.array(type(model).__name__)
np.savez(f"{folder}/outputs.npz", **results)
"""


def models():
    """Between them, every class of the package that a saved model holds."""
    return {
        "rnn_classifier": TextClassifier(
            RNNEncoderBackbone(30, embedding_dim=6, units=4), 3,
            pooling="first",
        ),
        "transformer_translator": TransformerTranslator(
            TransformerEncoderBackbone(
                vocabulary_size=30, max_length=16, num_layers=1, model_dim=8,
                num_heads=2, intermediate_dim=16, bigram_buckets=64,
                normalize_first=True,
            ),
            40,
        ),
        "rnn_translator": RNNTranslator(
            30, 40, attention="luong", rnn="lstm", embedding_dim=6, units=4
        ),
        "masked_language_model": MaskedLanguageModel(
            TransformerEncoderBackbone(
                vocabulary_size=30, max_length=16, num_layers=1, model_dim=8,
                num_heads=2, intermediate_dim=16,
            )
        ),
    }


# What this checks, the registration on import, does not depend on the
# backend; under JAX the two cold starts of eager dispatch cost ~40 s.
@pytest.mark.skipif(
    keras.backend.backend() != "tensorflow",
    reason="registration is backend-independent; checked on TensorFlow",
)
def test_models_reload_after_importing_only_the_package(tmp_path):
    translation, _ = translation_batch()
    inputs = dict(ids=padded_ids([6, 2, 4], 6, 30, seed=3), **translation)
    masked = {"token_ids": inputs["ids"],
              "mask_positions": np.array([[1, 0], [0, 1], [3, 2]], "int32")}
    inputs.update(masked)
    np.savez(tmp_path / "inputs.npz", **inputs)
    expected = {}
    for name, model in models().items():
        if "translator" in name:
            outputs = model(translation)
        elif name == "masked_language_model":
            outputs = model(masked)
        else:
            outputs = model(inputs["ids"])
        expected[name] = (to_numpy(outputs), type(model).__name__)
        model.save(tmp_path / f"{name}.keras")
    environment = dict(os.environ)
    environment["PYTHONPATH"] = os.pathsep.join(
        [ROOT] + [p for p in [environment.get("PYTHONPATH")] if p]
    )
    completed = subprocess.run(
        [sys.executable, "-c", LOAD_AND_RUN, str(tmp_path), *expected],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=environment,
        timeout=600,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    results = np.load(tmp_path / "outputs.npz")
    for name, (outputs, class_name) in expected.items():
        assert str(results[f"{name}_class"]) == class_name, name
        np.testing.assert_allclose(
            results[name], outputs, rtol=1e-6, atol=1e-6, err_msg=name
        )
