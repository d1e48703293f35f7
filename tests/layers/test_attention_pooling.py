import numpy as np
import pytest

from keras_attnpred.layers import AttentionPooling
from tests.layer_checks import LayerChecks
from tests.layer_checks import padded_ids
from tests.layer_checks import random_floats
from tests.layer_checks import to_numpy


class TestAttentionPooling(LayerChecks):
    layer_cls = AttentionPooling
    init_kwargs = {"units": 6}
    output_is_sequence = False

    def make_inputs(self):
        return {"inputs": random_floats((3, 5, 4))}

    def make_padded_inputs(self):
        return {"inputs": (padded_ids([5, 3, 1], 5), 4)}


def numpy_attention_pooling(x, mask, w, b, u):
    scores = np.tanh(x @ w + b) @ u[:, 0]
    scores = np.where(mask, scores, -np.inf)
    weights = np.exp(scores - scores.max(-1, keepdims=True))
    weights = weights / weights.sum(-1, keepdims=True)
    return np.einsum("bt,btd->bd", weights, x), weights


def test_matches_numpy_reference_and_padding_gets_no_weight():
    x = random_floats((3, 5, 4))
    mask = padded_ids([5, 3, 1], 5) != 0
    layer = AttentionPooling(units=6)
    pooled, weights = layer(x, mask=mask, return_attention_scores=True)
    w, b = (to_numpy(v) for v in layer._projection.weights)
    u = to_numpy(layer._context.kernel)
    want_pooled, want_weights = numpy_attention_pooling(x, mask, w, b, u)
    np.testing.assert_allclose(to_numpy(weights), want_weights, atol=1e-6)
    np.testing.assert_allclose(to_numpy(pooled), want_pooled, atol=1e-5)
    np.testing.assert_allclose(to_numpy(weights).sum(-1), 1.0, atol=1e-6)
    assert (to_numpy(weights)[~mask] == 0).all()


def test_sequence_without_real_steps_pools_to_zeros():
    x = random_floats((2, 4, 3))
    mask = np.array([[True] * 4, [False] * 4])
    pooled, weights = AttentionPooling()(x, mask=mask, return_attention_scores=True)
    np.testing.assert_array_equal(to_numpy(pooled)[1], 0.0)
    np.testing.assert_array_equal(to_numpy(weights)[1], 0.0)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"units": 0}, "Received: units=0"),
        ({"dropout": 1.0}, "Received: dropout=1.0"),
        ({"dropout": -0.1}, "Received: dropout=-0.1"),
    ],
)
def test_bad_arguments_name_the_argument_and_value(kwargs, message):
    with pytest.raises(ValueError, match=message):
        AttentionPooling(**kwargs)


def test_rejects_inputs_without_time_axis():
    with pytest.raises(ValueError, match=r"inputs.shape=\(2, 3\)"):
        AttentionPooling()(random_floats((2, 3)))
