import keras
import numpy as np
import pytest

from keras_attnpred.models import build_transformer_classifier
from keras_attnpred.training import TrainingConfig
from keras_attnpred.training._model_factory import build_optimizer
from keras_attnpred.training.layerwise_decay_adamw import LayerwiseDecayAdamW


def _classifier():
    keras.utils.set_random_seed(0)
    return build_transformer_classifier(
        50, 2, max_length=8, preset="tiny", num_layers=2, dropout=0.0
    )


def test_each_encoder_weight_moves_at_its_layer_rate():
    model = _classifier()
    config = TrainingConfig.from_dict({
        "task": "sentiment", "train_path": "x.csv", "learning_rate": 0.01,
        "layer_decay": 0.5,
    })
    optimizer = build_optimizer(config, 10, model)
    assert isinstance(optimizer, LayerwiseDecayAdamW)
    model.compile(
        optimizer,
        keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    before = {v.path: keras.ops.convert_to_numpy(v)
              for v in model.trainable_weights}
    ids = np.array([[5, 6, 7, 8, 9, 10, 0, 0], [11, 12, 13, 0, 0, 0, 0, 0]])
    model.train_on_batch(ids, np.array([0, 1]))
    depths = model.backbone.layer_depths()
    assert set(depths.values()) == {0, 1, 2}
    for variable in model.trainable_weights:
        moved = np.abs(
            keras.ops.convert_to_numpy(variable) - before[variable.path]
        ).max()
        # Adam's first step moves every weight with a gradient by about the
        # rate: 0.01 times 0.5 ** (3 - depth), the head by 0.01.
        # (The key bias, to which softmax is blind, gets no gradient.)
        depth = depths.get(variable.path)
        rate = 0.01 if depth is None else 0.01 * 0.5 ** (3 - depth)
        if "key/bias" in variable.path:
            assert moved < rate / 100
            continue
        np.testing.assert_allclose(moved, rate, rtol=0.1,
                                   err_msg=variable.path)


def test_the_optimizer_round_trips_its_multipliers():
    optimizer = LayerwiseDecayAdamW({"a/kernel": 0.25}, learning_rate=0.1)
    again = LayerwiseDecayAdamW.from_config(optimizer.get_config())
    assert again.learning_rate_multipliers == {"a/kernel": 0.25}


@pytest.mark.parametrize("bad", [-1.0, "x", True])
def test_bad_multipliers_are_refused(bad):
    with pytest.raises(ValueError, match="learning_rate_multipliers"):
        LayerwiseDecayAdamW({"a/kernel": bad})


@pytest.mark.parametrize(
    "values, match",
    [
        ({"layer_decay": 1.5}, "layer_decay=1.5"),
        ({"layer_decay": 0}, "layer_decay=0"),
        ({"layer_decay": 0.8, "model": "rnn"}, "model='rnn'"),
    ],
)
def test_layer_decay_config_errors(values, match):
    with pytest.raises(ValueError, match=match):
        TrainingConfig.from_dict(
            {"task": "sentiment", "train_path": "x.csv", **values}
        )
