import json
import zipfile

import keras
import keras_hub
import numpy as np
import pytest

from keras_attnpred.layers import TransformerEncoder
from tests.layer_checks import LayerChecks
from tests.layer_checks import padded_ids
from tests.layer_checks import random_floats
from tests.layer_checks import to_numpy
from tests.layers.transformer_reference import activation_dropout_cases
from tests.layers.transformer_reference import assert_hidden_dropout_scale
from tests.layers.transformer_reference import copy_weights_from_keras_hub


class TestPostNormEncoder(LayerChecks):
    layer_cls = TransformerEncoder
    init_kwargs = {"intermediate_dim": 12, "num_heads": 2}

    def make_inputs(self):
        return {"inputs": random_floats((2, 5, 8))}

    def make_padded_inputs(self):
        return {"inputs": (padded_ids([5, 2], 5), 8)}


class TestPreNormGroupedQueryEncoder(TestPostNormEncoder):
    init_kwargs = {
        "intermediate_dim": 12,
        "num_heads": 4,
        "num_key_value_heads": 2,
        "normalize_first": True,
        "activation": "gelu",
        "dropout": 0.1,
    }


class TestEncoderWithActivationDropout(TestPostNormEncoder):
    init_kwargs = {
        "intermediate_dim": 12,
        "num_heads": 2,
        "dropout": 0.1,
        "activation_dropout": 0.2,
    }


@pytest.mark.parametrize("normalize_first", [False, True])
def test_equals_keras_hub_encoder_with_same_weights(normalize_first):
    x = random_floats((2, 6, 8))
    mask = np.arange(6)[None] < np.array([[6], [4]])
    theirs = keras_hub.layers.TransformerEncoder(
        16, 2, normalize_first=normalize_first
    )
    ours = TransformerEncoder(16, 2, normalize_first=normalize_first)
    theirs(x)
    ours(x)
    copy_weights_from_keras_hub(theirs, ours)
    want = to_numpy(theirs(x, padding_mask=mask))
    got = to_numpy(ours(x, padding_mask=mask))
    np.testing.assert_allclose(got[mask], want[mask], atol=1e-5)


def test_attention_mask_does_not_drop_the_padding_mask():
    """Passing an explicit attention mask keeps the Embedding's padding mask."""
    ids = padded_ids([6, 3], 6)
    embedded = keras.layers.Embedding(30, 8, mask_zero=True)(ids)
    layer = TransformerEncoder(16, 2)
    everything = np.ones((2, 6, 6), bool)
    _, scores = layer(embedded, attention_mask=everything, return_attention_scores=True)
    scores = to_numpy(scores)
    assert (scores[1, :, :3, 3:] == 0).all()
    np.testing.assert_allclose(scores[1, :, :3].sum(-1), 1.0, atol=1e-6)


def test_explicit_padding_mask_equals_keras_mask():
    ids = padded_ids([6, 3], 6)
    embedding = keras.layers.Embedding(30, 8, mask_zero=True)
    layer = TransformerEncoder(16, 2)
    with_keras_mask = to_numpy(layer(embedding(ids)))
    plain = to_numpy(embedding(ids)) * 1.0  # a plain array carries no mask
    with_argument = to_numpy(layer(plain, padding_mask=ids != 0))
    real = ids != 0
    np.testing.assert_allclose(with_keras_mask[real], with_argument[real], atol=1e-6)


def test_causal_encoder_never_looks_ahead():
    x = random_floats((1, 5, 8))
    layer = TransformerEncoder(16, 2)
    before = to_numpy(layer(x, use_causal_mask=True))
    changed = x.copy()
    changed[:, 3:] += 10.0
    after = to_numpy(layer(changed, use_causal_mask=True))
    np.testing.assert_allclose(after[:, :3], before[:, :3], atol=1e-5)
    assert not np.allclose(after[:, 3:], before[:, 3:])


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"intermediate_dim": 0, "num_heads": 2}, "Received: intermediate_dim=0"),
        ({"intermediate_dim": 8, "num_heads": 0}, "Received: num_heads=0"),
        ({"intermediate_dim": 8, "num_heads": 2, "dropout": 2.0}, "Received: dropout=2.0"),
        (
            {"intermediate_dim": 8, "num_heads": 2, "activation_dropout": 1.0},
            r"Received: activation_dropout=1\.0",
        ),
        (
            {"intermediate_dim": 8, "num_heads": 2, "activation_dropout": "0.1"},
            "Received: activation_dropout='0.1'",
        ),
        (
            {"intermediate_dim": 8, "num_heads": 2, "layer_norm_epsilon": 0},
            "Received: layer_norm_epsilon=0",
        ),
    ],
)
def test_bad_arguments_name_the_argument_and_value(kwargs, message):
    with pytest.raises(ValueError, match=message):
        TransformerEncoder(**kwargs)


def test_feature_size_not_divisible_by_heads_is_named():
    with pytest.raises(ValueError, match=r"inputs.shape\[-1\]=6, num_heads=4"):
        TransformerEncoder(8, num_heads=4)(random_floats((1, 3, 6)))


@activation_dropout_cases
def test_activation_dropout_is_the_rate_on_the_hidden_activations(
    activation_dropout, scale, monkeypatch
):
    x = random_floats((2, 6, 8))
    layer = TransformerEncoder(
        32, 2, dropout=0.5, activation_dropout=activation_dropout
    )
    layer(x)
    assert_hidden_dropout_scale(
        layer, lambda: layer(x, training=True), scale, monkeypatch)


@pytest.mark.parametrize("activation_dropout", [0.0, 0.9])
def test_dropout_on_the_hidden_activations_alone(activation_dropout):
    """With `dropout=0` only `activation_dropout` can make training differ."""
    x = random_floats((2, 6, 8))
    layer = TransformerEncoder(
        32, 2, dropout=0.0, activation_dropout=activation_dropout
    )
    inference = to_numpy(layer(x))
    training = to_numpy(layer(x, training=True))
    if activation_dropout:
        assert not np.allclose(training, inference, atol=1e-3)
    else:
        np.testing.assert_array_equal(training, inference)


@pytest.mark.parametrize(
    "activation_dropout, has_layer", [(None, False), (0.0, False), (0.3, True)]
)
def test_activation_dropout_layer_only_when_needed(activation_dropout, has_layer):
    # None reuses the residual dropout layer; 0 needs none.
    layer = TransformerEncoder(16, 2, dropout=0.1, activation_dropout=activation_dropout)
    layer(random_floats((1, 3, 8)))
    names = [sublayer.name for sublayer in layer._flatten_layers()]
    assert ("activation_dropout" in names) == has_layer


def _without_activation_dropout(value):
    if isinstance(value, dict):
        return {
            key: _without_activation_dropout(item)
            for key, item in value.items()
            if key != "activation_dropout"
        }
    if isinstance(value, list):
        return [_without_activation_dropout(item) for item in value]
    return value


def test_config_without_activation_dropout_loads_as_before():
    config = TransformerEncoder(16, 2, dropout=0.3).get_config()
    assert config["activation_dropout"] is None
    del config["activation_dropout"]
    restored = TransformerEncoder.from_config(config)
    assert restored.activation_dropout is None
    assert restored.get_config()["dropout"] == 0.3


def test_keras_file_saved_before_activation_dropout_loads(tmp_path):
    """A `.keras` file whose config lacks the key, as older versions wrote."""
    x = random_floats((2, 5, 8))
    inputs = keras.Input((5, 8))
    model = keras.Model(inputs, TransformerEncoder(16, 2, dropout=0.3)(inputs))
    model.save(tmp_path / "new.keras")
    with zipfile.ZipFile(tmp_path / "new.keras") as new, zipfile.ZipFile(
        tmp_path / "old.keras", "w"
    ) as old:
        for item in new.infolist():
            data = new.read(item)
            if item.filename == "config.json":
                config = _without_activation_dropout(json.loads(data))
                data = json.dumps(config).encode()
            old.writestr(item, data)
    assert b"activation_dropout" not in zipfile.ZipFile(
        tmp_path / "old.keras"
    ).read("config.json")
    reloaded = keras.models.load_model(tmp_path / "old.keras")
    layer = reloaded.layers[-1]
    assert layer.activation_dropout is None and layer.dropout == 0.3
    np.testing.assert_allclose(to_numpy(reloaded(x)), to_numpy(model(x)), atol=1e-6)
